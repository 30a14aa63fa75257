"""The task files staged before the import and kept after it (module_utils/study_task_files.py)."""
import os
import stat
import tempfile

import pytest

from ansible.module_utils.study_task_files import (TaskFilesRefused, publish_task_files,
                                                   stage_task_files, sync_task_files)

NAMES = ["ann", "bob"]
PLAN = {"b1": {"ann": [{"study_id": 1, "impression": "Épanchement."}], "bob": []},
        "b2": {"ann": [{"study_id": 2}], "bob": [{"study_id": 2}, {"study_id": 3}]}}


def contents(directory):
    return {p: open(os.path.join(directory, p), "rb").read() for p in sorted(os.listdir(directory))}


def test_staged_then_kept_gives_the_files_written_at_once(tmp_path, monkeypatch):
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))  # the controller's temp dir
    at_once, staged_dir = tmp_path / "at-once", tmp_path / "staged"
    sync_task_files(str(at_once), PLAN, NAMES, ["b1", "b2"], {}, False)
    files, staged = stage_task_files(str(staged_dir), PLAN, NAMES, ["b1", "b2"], {}, False)
    # Nothing in place yet: only the private stage holds them.
    assert not staged_dir.exists()
    assert os.path.dirname(staged["stage"]) == str(tmp_path / "tmp")
    assert stat.S_IMODE(os.stat(staged["stage"]).st_mode) == 0o700
    assert staged["changed"] and [f["changed"] for f in files] == [True, True, True]
    assert sorted(staged["files"]) == sorted(contents(at_once))

    result, _ = publish_task_files({"staged": staged}, diff=True)
    assert result["changed"] and result["stage_removed"] and not os.path.exists(staged["stage"])
    assert contents(staged_dir) == contents(at_once)
    assert stat.S_IMODE(staged_dir.stat().st_mode) == 0o700
    assert {stat.S_IMODE(p.stat().st_mode) for p in staged_dir.iterdir()} == {0o600}
    assert "b2-bob-tasks.json: 2 tasks" in result["diff"]["after"]
    assert os.listdir(tmp_path / "tmp") == []


def test_only_what_changes_is_staged_and_kept(tmp_path):
    directory = tmp_path / "tasks"
    sync_task_files(str(directory), PLAN, NAMES, ["b1"], {}, False)
    before = {p.name: p.stat().st_mtime_ns for p in directory.iterdir()}
    _, staged = stage_task_files(str(directory), PLAN, NAMES, ["b1", "b2"], {}, False)
    assert sorted(staged["files"]) == ["b2-ann-tasks.json", "b2-bob-tasks.json"]
    publish_task_files({"staged": staged})
    assert {p.name: p.stat().st_mtime_ns for p in directory.iterdir() if p.name in before} == before
    # Nothing left to change: nothing staged, no stage made.
    _, again = stage_task_files(str(directory), PLAN, NAMES, ["b1", "b2"], {}, False)
    assert (again["changed"], again["stage"], again["files"]) == (False, None, [])


def test_check_mode_stages_and_writes_nothing(tmp_path):
    directory = tmp_path / "tasks"
    _, staged = stage_task_files(str(directory), PLAN, NAMES, ["b2"], {}, True)
    assert staged["changed"] and staged["stage"] is None
    result, _ = publish_task_files({"staged": staged}, check_mode=True, diff=True)
    assert result["changed"] and "b2-ann-tasks.json: 1 tasks" in result["diff"]["after"]
    assert not directory.exists()


@pytest.mark.parametrize("name", ["../b1-ann-tasks.json", "/etc/b1-ann-tasks.json", ".b1-ann-tasks.json",
                                  "notes.txt"])
def test_a_staged_name_that_is_not_a_task_file_is_refused(tmp_path, name):
    directory = tmp_path / "tasks"
    staged = {"directory": str(directory), "stage": str(tmp_path), "files": [name], "changed": True}
    with pytest.raises(TaskFilesRefused, match="not a task file name"):
        publish_task_files({"staged": staged})
    assert not directory.exists()


def test_a_relative_directory_is_refused(tmp_path):
    with pytest.raises(TaskFilesRefused, match="absolute path"):
        publish_task_files({"staged": {"directory": "tasks", "stage": None, "files": [], "changed": True}})


def test_a_stage_not_made_by_the_plan_is_refused_and_left_alone(tmp_path):
    """publish_task_files empties and removes the stage: it must be one stage_task_files made."""
    other = tmp_path / "important"
    other.mkdir()
    (other / "b1-ann-tasks.json").write_text("[]")
    staged = {"directory": str(tmp_path / "tasks"), "stage": str(other), "files": ["b1-ann-tasks.json"],
              "changed": True}
    with pytest.raises(TaskFilesRefused, match="not a stage made by study_batch_tasks"):
        publish_task_files({"staged": staged})
    assert (other / "b1-ann-tasks.json").exists() and not (tmp_path / "tasks").exists()


def test_without_a_stage_nothing_is_written(tmp_path):
    directory = tmp_path / "tasks"
    result, _ = publish_task_files({"staged": {"directory": str(directory), "stage": None, "files": [],
                                               "changed": False}})
    assert not result["changed"] and not directory.exists()
