"""Names that reach file names are refused before anything is written (issue 13, item 6).

The refusals come first in each playbook, so they need no Label Studio: an instance that was
never deployed shows that nothing at all is written (no data, state or credentials dir).
"""
from __future__ import annotations

import shutil

import openpyxl
import pytest

from support.playbook import REPO

EXAMPLE = REPO / "files/study"


@pytest.fixture
def undeployed(make_instance, tmp_path):
    shutil.copy(EXAMPLE / "assignments.xlsx", tmp_path / "assignments.xlsx")
    return make_instance(study_assignments=str(tmp_path / "assignments.xlsx"),
                         study_task_files_dir=str(tmp_path / "out/tasks"),
                         study_export_dir=str(tmp_path / "out/exports"))


def nothing_written(inst, tmp_path):
    assert not inst.data_dir.exists() and not inst.state_dir.exists()
    assert not inst.credentials_dir.exists()
    assert not (tmp_path / "out").exists() and not (tmp_path.parent / "x").exists()
    # Wherever a name leaving the task dir would have put a file: no file beside the sheet.
    assert [p for p in tmp_path.rglob("*") if p.is_file() and p != tmp_path / "assignments.xlsx"] == []


def rename_batch(path, old, new) -> int:
    """Renames a batch in the sheet; returns the first row that has it."""
    book = openpyxl.load_workbook(path)
    sheet = book.active
    rows = [r for r in range(2, sheet.max_row + 1) if sheet.cell(r, 2).value == old]
    for r in rows:
        sheet.cell(r, 2).value = new
    book.save(path)
    return rows[0]


def test_assign_refuses_batch_names_that_leave_the_task_dir(undeployed, tmp_path):
    sheet = tmp_path / "assignments.xlsx"
    rows = {"../../x": rename_batch(sheet, "batch0", "../../x"), "a/b": rename_batch(sheet, "batch1", "a/b")}
    run = undeployed.playbook("playbooks/assign.yml", {"batch": "all"})
    assert run.returncode != 0
    for bad, row in rows.items():
        assert f"assignments.xlsx row {row}, column B (batch): '{bad}' holds '/'" in run.output, run.output[-3000:]
    assert "Traceback" not in run.output
    nothing_written(undeployed, tmp_path)


BAD_ANNOTATORS = [
    "annotator1", "users", "annotator1.full", {"name": "../x", "email": "secret-x@example.org"},
    "Annotator1", {"name": "annotator2", "email": "Same@example.org"},
    {"name": "annotator3", "email": "same@example.org"}, {"name": "annotator4", "email": "not-an-address"}]
BAD_ANNOTATOR_MESSAGES = (
    "study_annotators item 2: 'users' is reserved",
    "study_annotators item 3: 'annotator1.full' is reserved",
    "study_annotators item 4: '../x' holds '/'",
    "study_annotators item 5: 'Annotator1' differs from item 1 'annotator1' only in case",
    "study_annotators item 7 (annotator3): has the same email as item 6",
    "study_annotators item 8 (annotator4): the email is not an email address")


def test_deploy_refuses_unsafe_names_and_bad_emails_before_anything(undeployed, tmp_path):
    """Every problem at once (one run), each naming the entry, never showing an email."""
    run = undeployed.deploy({"study_annotators": BAD_ANNOTATORS})
    assert run.returncode != 0
    for message in BAD_ANNOTATOR_MESSAGES:
        assert message in run.output, run.output[-3000:]
    assert "example.org" not in run.output.lower() and "not-an-address" not in run.output
    nothing_written(undeployed, tmp_path)


def test_the_names_check_refuses_alike_in_ansibles_process_and_as_a_module(undeployed, tmp_path):
    """study_check_names' action plugin checks in ansible's own process (-vvv names no module
    file) and refuses with the module's messages; neither way shows an email, even at -vvv."""
    empty = tmp_path / "no-action-plugins"
    empty.mkdir()
    for how, env in (("plugin", None), ("module", {"ANSIBLE_ACTION_PLUGINS": str(empty)})):
        # playbooks/deploy.yml: the top-level one would find action_plugins/ beside it anyway.
        run = undeployed.playbook("playbooks/deploy.yml", {"study_annotators": BAD_ANNOTATORS},
                                  env=env, extra_args=["-vvv"])
        assert run.returncode != 0
        for message in BAD_ANNOTATOR_MESSAGES:
            assert message in run.output, (how, run.output[-3000:])
        assert ("library/study_check_names.py" in run.output) == (how == "module"), run.output[-3000:]
        assert "example.org" not in run.output.lower() and "not-an-address" not in run.output, how
    nothing_written(undeployed, tmp_path)


def test_export_refuses_an_annotator_whose_files_collide(undeployed, tmp_path):
    run = undeployed.playbook("export.yml", {"study_annotators": ["annotator1", "Users"]})
    assert run.returncode != 0 and "study_annotators item 2: 'Users' is reserved" in run.output
    nothing_written(undeployed, tmp_path)
