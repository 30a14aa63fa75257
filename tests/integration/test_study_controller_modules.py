"""The controller-side study modules through real ansible-playbook runs (no Label Studio needed).

study_batch_tasks: task files written once, private, unchanged on re-run, nothing in check mode,
nothing at all when the sheet has errors; its action plugin (in ansible's process) and the module
write the same, also when they are staged first and kept by study_task_files. generate-assignments.yml: writes a balanced batch,
refuses the same batch again, writes nothing in check mode.
"""
from __future__ import annotations

import json
import re
import shutil
import stat
import textwrap
from pathlib import Path

import openpyxl
import pytest
import yaml

from support.files import assert_untouched, files_state
from support.playbook import REPO, run_playbook

NAMES = ["annotator%d" % n for n in range(1, 7)]

PLAN_PLAYBOOK = """\
- name: Plan the study's tasks
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Compute and record the tasks
      study_batch_tasks:
        reports: "{{ reports }}"
        assignments: "{{ assignments }}"
        label_config: "{{ label_config }}"
        annotators: "{{ annotators }}"
        batch: "{{ batch }}"
        task_files_dir: "{{ task_files_dir }}"
      register: plan
    - name: Show the counts
      ansible.builtin.debug:
        var: plan.counts
"""

# playbooks/assign.yml's way: staged by the plan, kept by study_task_files (after the import there).
STAGED_PLAYBOOK = """\
- name: Plan the study's tasks, keep the task files afterwards
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Compute the tasks and stage the task files
      study_batch_tasks:
        reports: "{{ reports }}"
        assignments: "{{ assignments }}"
        annotators: "{{ annotators }}"
        batch: "{{ batch }}"
        task_files_dir: "{{ task_files_dir }}"
        stage_task_files: true
      register: plan
    - name: Keep the task files
      study_task_files:
        staged: "{{ plan.staged_task_files }}"
      when: plan.staged_task_files.changed
"""


@pytest.fixture
def study(tmp_path):
    """Copies of the example study in tmp_path and the variables pointing at them."""
    for name in ("reports.json", "assignments.xlsx", "label-config.xml"):
        shutil.copy(REPO / "files/study" / name, tmp_path / name)
    playbook = tmp_path / "plan.yml"
    playbook.write_text(PLAN_PLAYBOOK)
    return {
        "playbook": str(playbook),
        "vars": {"reports": str(tmp_path / "reports.json"),
                 "assignments": str(tmp_path / "assignments.xlsx"),
                 "label_config": str(tmp_path / "label-config.xml"),
                 "annotators": list(NAMES),
                 "task_files_dir": str(tmp_path / "tasks"),
                 "batch": "all"},
        "dir": tmp_path,
    }


def counts(run):
    """The plan.counts block the debug task prints (YAML result format, see ansible.cfg)."""
    match = re.search(r"^( +)plan\.counts:\n((?:\1 .*\n)+)", run.output, re.M)
    assert match, run.output[-3000:]
    return yaml.safe_load(textwrap.dedent(match.group(2)))


def test_task_files_written_once_private_and_unchanged_on_rerun(study):
    tasks = Path(study["vars"]["task_files_dir"])
    check = run_playbook(study["playbook"], study["vars"], check=True, diff=True).assert_ok()
    assert check.changed == 1 and not tasks.exists()
    assert "batch2-annotator4-tasks.json: absent" in check.output

    first = run_playbook(study["playbook"], study["vars"]).assert_ok()
    assert first.changed == 1
    assert counts(first) == {"batch0": dict.fromkeys(NAMES, 10), "batch1": dict.fromkeys(NAMES, 10),
                             "batch2": dict.fromkeys(NAMES, 50)}
    assert stat.S_IMODE(tasks.stat().st_mode) == 0o700
    files = sorted(path.name for path in tasks.iterdir())
    assert files == sorted("%s-%s-tasks.json" % (b, n) for b in ("batch0", "batch1", "batch2")
                           for n in NAMES)
    for path in tasks.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    batch2 = json.loads((tasks / "batch2-annotator3-tasks.json").read_text())
    assert len(batch2) == 50 and all(t["batch"] == "batch2" and "id" not in t for t in batch2)
    assert {"study_id", "impression", "candidate0", "order", "findings+bg"} <= set(batch2[0])

    written = files_state(tasks)
    run_playbook(study["playbook"], study["vars"]).assert_unchanged()
    run_playbook(study["playbook"], study["vars"], check=True, diff=True).assert_unchanged()
    assert_untouched(written, tasks)  # not only changed=0: no file rewritten either


def test_the_action_plugin_plans_in_process_exactly_as_the_module(study, tmp_path_factory):
    """study_batch_tasks' action plugin runs the plan in ansible's own process (no module is
    started: -vvv names no module file) and writes the very files, counts and modes the module
    writes when no action plugin is configured."""
    results = {}
    for how, env in (("plugin", None),
                     ("module", {"ANSIBLE_ACTION_PLUGINS": str(tmp_path_factory.mktemp("none"))})):
        tasks = study["dir"] / f"tasks-{how}"
        run = run_playbook(study["playbook"], dict(study["vars"], task_files_dir=str(tasks)),
                           env=env, extra_args=["-vvv"]).assert_ok()
        assert run.changed == 1
        started = "library/study_batch_tasks.py" in run.output
        assert started == (how == "module"), run.output[-3000:]
        results[how] = (counts(run), {path.name: (path.read_bytes(), stat.S_IMODE(path.stat().st_mode))
                                      for path in tasks.iterdir()}, stat.S_IMODE(tasks.stat().st_mode))
    assert results["plugin"] == results["module"]
    assert len(results["plugin"][1]) == 18

def test_staged_task_files_are_kept_as_written_at_once_by_plugin_and_module(study, tmp_path_factory):
    """assign.yml's way (stage_task_files, then study_task_files) gives the very files the plan
    writes at once, through the action plugin and as modules alike; the stage goes; a re-run and
    --check --diff change nothing, and --check before the first run writes nothing."""
    at_once = Path(study["vars"]["task_files_dir"])
    run_playbook(study["playbook"], study["vars"]).assert_ok()
    expected = {path.name: (path.read_bytes(), stat.S_IMODE(path.stat().st_mode)) for path in at_once.iterdir()}
    assert len(expected) == 18
    staged = study["dir"] / "staged.yml"
    staged.write_text(STAGED_PLAYBOOK)
    for how, env in (("plugin", {}),
                     ("module", {"ANSIBLE_ACTION_PLUGINS": str(tmp_path_factory.mktemp("none"))})):
        tasks = study["dir"] / f"tasks-{how}"
        temp = tmp_path_factory.mktemp(f"controller-tmp-{how}")
        env = dict(env, TMPDIR=str(temp))
        variables = dict(study["vars"], task_files_dir=str(tasks))
        preview = run_playbook(str(staged), variables, env=env, check=True, diff=True).assert_ok()
        assert preview.changed == 1 and "batch2-annotator4-tasks.json: 50 tasks" in preview.output
        assert not tasks.exists() and list(temp.iterdir()) == []
        first = run_playbook(str(staged), variables, env=env, extra_args=["-vvv"]).assert_ok()
        assert first.changed == 1  # the keeping, not the staging
        assert ("library/study_task_files.py" in first.output) == (how == "module")
        assert {path.name: (path.read_bytes(), stat.S_IMODE(path.stat().st_mode))
                for path in tasks.iterdir()} == expected
        assert stat.S_IMODE(tasks.stat().st_mode) == 0o700
        assert list(temp.iterdir()) == []  # the stage is gone
        kept = files_state(tasks)
        run_playbook(str(staged), variables, env=env).assert_unchanged()
        run_playbook(str(staged), variables, env=env, check=True, diff=True).assert_unchanged()
        assert_untouched(kept, tasks)
        assert list(temp.iterdir()) == []


def test_one_batch_only_and_repeated_annotators_are_warnings(study):
    """The example's batch0/batch1 rows say 'all' in a1 and a2, as the original sheet did: no
    warning. A name next to 'all' or named twice is a located warning; the run goes on."""
    path = study["vars"]["assignments"]
    workbook = openpyxl.load_workbook(path)
    sheet = workbook.active
    assert [sheet[c].value for c in ("C12", "D12", "E12")] == ["all", "all", None]  # batch1
    sheet["E12"] = "annotator2"         # next to 'all'
    repeated = next(row for row in range(2, sheet.max_row + 1)
                    if sheet.cell(row, 2).value == "batch2")
    sheet.cell(repeated, 5).value = sheet.cell(repeated, 3).value  # a3 repeats a1
    workbook.save(path)

    run = run_playbook(study["playbook"], dict(study["vars"], batch="batch1")).assert_ok()
    assert counts(run) == {"batch1": dict.fromkeys(NAMES, 10)}
    assert len(list(Path(study["vars"]["task_files_dir"]).iterdir())) == 6
    warnings = re.findall(r"^\[WARNING\]: (.*)$", run.output, re.M)
    assert warnings == [
        "%s row 12, column E (a3): annotator2 is already included by 'all' in column C (a1); the "
        "report counts once for them" % path,
        "%s row %d, columns C (a1) and E (a3): %s is named twice; the report counts once for "
        "them" % (path, repeated, sheet.cell(repeated, 3).value)], run.output[-3000:]


def test_bad_sheet_fails_with_every_problem_and_writes_nothing(study):
    path = study["vars"]["assignments"]
    workbook = openpyxl.load_workbook(path)
    sheet = workbook.active
    sheet["C30"] = "anotator2"          # unknown, close to annotator2
    sheet["A40"] = sheet["A41"].value   # duplicate id
    sheet["B5"] = None                  # annotators but no batch
    sheet["E2"] = "annotator1"          # next to 'all': only a warning, not a fourth problem
    workbook.save(path)

    run = run_playbook(study["playbook"], study["vars"])
    assert run.returncode != 0
    assert "3 problems in the study data (nothing was written)" in run.output
    assert "assignments.xlsx row 5, column B (batch): empty, but C (a1) and D (a2) names " \
           "annotators; give a batch or clear them" in run.output
    assert "row 30, column C (a1): unknown annotator 'anotator2'; did you mean 'annotator2'?" \
        in run.output
    assert "row 41, column A (id): report %s is listed again (first in row 40)" \
        % sheet["A41"].value in run.output
    assert not Path(study["vars"]["task_files_dir"]).exists()


def test_unknown_batch_is_named(study):
    run = run_playbook(study["playbook"], dict(study["vars"], batch="training"))
    assert run.returncode != 0
    assert "no row has batch 'training' (batches in the sheet: batch0, batch1, batch2)" in run.output


def generate_vars(study, **more):
    return {"study_assignments": study["vars"]["assignments"],
            "study_reports": study["vars"]["reports"], **more}


def test_generate_assignments_playbook_writes_once_then_refuses(study):
    sheet = Path(study["vars"]["assignments"])
    original = sheet.read_bytes()
    params = generate_vars(study, batch="batch3", size=20, per_report=3, seed="5")

    untouched = files_state(study["dir"])
    check = run_playbook("playbooks/generate-assignments.yml", params, check=True, diff=True)
    check.assert_ok()
    assert sheet.read_bytes() == original
    assert_untouched(untouched, study["dir"])
    assert not list(study["dir"].glob("assignments.backup-*"))
    assert re.search(r"\+row \d+: \d+ batch3 annotator\d, annotator\d, annotator\d", check.output)

    first = run_playbook("playbooks/generate-assignments.yml", params).assert_ok()
    assert first.changed == 1
    loads = {name: int(n) for name, n in re.findall(r"(annotator\d): (\d+)", first.output)}
    assert loads == dict.fromkeys(NAMES, 10)
    backups = list(study["dir"].glob("assignments.backup-*.xlsx"))
    assert len(backups) == 1 and backups[0].read_bytes() == original

    # The planned batch is importable: study_batch_tasks finds it with 10 tasks each.
    plan = run_playbook(study["playbook"], dict(study["vars"], batch="batch3")).assert_ok()
    assert counts(plan) == {"batch3": dict.fromkeys(NAMES, 10)}

    generated = files_state(sheet, *study["dir"].glob("assignments.backup-*.xlsx"))
    again = run_playbook("playbooks/generate-assignments.yml", params)
    assert again.returncode != 0
    assert "batch 'batch3' already exists" in again.output
    assert len(list(study["dir"].glob("assignments.backup-*.xlsx"))) == 1
    # Refused means untouched: the sheet and its backup byte-identical, same mtimes.
    assert_untouched(generated, sheet, *study["dir"].glob("assignments.backup-*.xlsx"))


def test_generate_assignments_playbook_usage_message(study):
    run = run_playbook("playbooks/generate-assignments.yml", generate_vars(study, batch="batch3"))
    assert run.returncode != 0
    assert "usage: ansible-playbook playbooks/generate-assignments.yml -e batch=NAME" in run.output
