"""module_utils/file_set.py: label_studio_files makes a role's dirs and files in one run; it
plans without writing, makes parents with the dir's mode, writes each file with its own mode,
refuses a path of the wrong kind before anything changes, and never shows a secret's text."""
from __future__ import annotations

import os
import stat

import pytest

from ansible.module_utils.file_set import (FileSetError, apply_file_set, file_set_diffs,
                                           make_file_set, parse_mode, plan_file_set)


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def layout(tmp_path):
    state = tmp_path / "home" / "state"
    dirs = [(str(state), 0o700), (str(state / "supervisord.d"), 0o700)]
    files = [(str(state / "service.env"), b"SECRET_KEY=k\n", 0o600),
             (str(state / "run"), b"#!/bin/sh\n", 0o700)]
    return state, dirs, files


def test_a_first_run_makes_everything_with_its_mode_and_a_second_plans_nothing(tmp_path):
    state, dirs, files = layout(tmp_path)
    (tmp_path / "gone").write_text("old")
    absent = [str(tmp_path / "gone"), str(tmp_path / "never-there")]
    plan = plan_file_set(dirs, files, absent)
    assert plan["dirs"] == [path for path, _mode in dirs]
    assert plan["files"] == [dest for dest, _data, _mode in files]
    assert plan["absent"] == [str(tmp_path / "gone")]
    assert not state.parent.exists(), "planning must not write (check mode relies on it)"
    old_umask = os.umask(0o022)  # mkdir alone would leave 0755
    try:
        apply_file_set(dirs, files, absent)
    finally:
        os.umask(old_umask)
    # The missing parent is made with the dir's mode too, as ansible.builtin.file does.
    assert mode(state.parent) == mode(state) == mode(state / "supervisord.d") == 0o700
    assert (state / "service.env").read_bytes() == b"SECRET_KEY=k\n" and mode(state / "service.env") == 0o600
    assert mode(state / "run") == 0o700 and not (tmp_path / "gone").exists()
    assert plan_file_set(dirs, files, absent) == {"dirs": [], "files": [], "absent": [], "before": {}}


def test_a_mode_changed_by_hand_is_put_back_and_nothing_else_is_rewritten(tmp_path):
    state, dirs, files = layout(tmp_path)
    apply_file_set(dirs, files, [])
    os.chmod(state / "run", 0o755)
    os.chmod(state / "supervisord.d", 0o755)
    untouched = os.stat(state / "service.env").st_mtime_ns
    plan = apply_file_set(dirs, files, [])
    assert plan["dirs"] == [str(state / "supervisord.d")] and plan["files"] == [str(state / "run")]
    assert mode(state / "run") == 0o700 and mode(state / "supervisord.d") == 0o700
    assert os.stat(state / "service.env").st_mtime_ns == untouched


def test_a_path_of_the_wrong_kind_fails_before_anything_is_written(tmp_path):
    state, dirs, files = layout(tmp_path)
    state.parent.mkdir()
    state.write_text("a file where the state dir goes")
    with pytest.raises(FileSetError, match="state should be a directory"):
        apply_file_set(dirs, files, [])
    assert state.read_text() == "a file where the state dir goes"
    other = tmp_path / "other"
    (other / "conf").mkdir(parents=True)
    with pytest.raises(FileSetError, match="conf should be a regular file"):
        apply_file_set([], [(str(other / "conf"), b"x", 0o600)], [])
    with pytest.raises(FileSetError, match="should be absent but is a directory"):
        apply_file_set([], [(str(other / "new"), b"x", 0o600)], [str(other / "conf")])
    assert not (other / "new").exists(), "the new file came before the check of what must be absent"


def test_diffs_show_texts_and_modes_but_never_a_secret(tmp_path):
    state, dirs, files = layout(tmp_path)
    apply_file_set(dirs, files, [])
    changed = [(str(state / "service.env"), b"SECRET_KEY=new\n", 0o600),
               (str(state / "run"), b"#!/bin/bash\n", 0o750)]
    plan = plan_file_set(dirs, changed, [])
    diffs = file_set_diffs(plan, dirs, changed, secret={str(state / "service.env")})
    text = repr(diffs)
    assert "SECRET_KEY" not in text and "secret: its text is not shown" in text
    (run,) = [diff for diff in diffs if diff["after_header"].startswith(str(state / "run"))]
    assert run == {"before_header": f"{state / 'run'} (mode 0700)", "after_header": f"{state / 'run'} (mode 0750)",
                   "before": "#!/bin/sh\n", "after": "#!/bin/bash\n"}


@pytest.mark.parametrize("text", ["rw", "0800", "17777", ""])
def test_a_mode_that_is_not_octal_is_refused_with_its_path(text):
    with pytest.raises(FileSetError, match="/x: mode"):
        parse_mode(text, "/x")


def test_an_octal_mode_is_read():
    assert parse_mode("0700", "/x") == 0o700 and parse_mode("600", "/x") == 0o600


def test_make_file_set_is_the_whole_run_in_check_mode_and_for_real(tmp_path):
    """What the module and the action plugin's in-process run both call: the options as the
    argument spec gives them, the texts apart (in the order of `files`)."""
    state = tmp_path / "state"
    params = {"dirs": [{"path": str(state), "mode": "0700"}],
              "files": [{"dest": str(state / "service.env"), "mode": "0600", "secret": True},
                        {"dest": str(state / "run"), "mode": "0700", "secret": False}],
              "absent": [str(tmp_path / "never-there")]}
    texts = [b"SECRET_KEY=k\n", b"#!/bin/sh\n"]
    preview = make_file_set(params, texts, check_mode=True, diff=True)
    assert preview["changed"] and preview["files"] == [str(state / "service.env"), str(state / "run")]
    assert not state.exists()
    assert "SECRET_KEY" not in repr(preview["diff"]) and "#!/bin/sh" in repr(preview["diff"])
    written = make_file_set(params, texts)
    assert written["changed"] and "diff" not in written
    assert (state / "service.env").read_bytes() == b"SECRET_KEY=k\n" and mode(state / "service.env") == 0o600
    assert mode(state) == 0o700 and mode(state / "run") == 0o700
    assert make_file_set(params, texts, diff=True) == {"changed": False, "dirs": [], "files": [], "absent": []}
    with pytest.raises(FileSetError, match="run: mode 'rwx'"):
        make_file_set(dict(params, files=[dict(params["files"][1], mode="rwx")]), [b"x"])
