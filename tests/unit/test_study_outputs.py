"""module_utils/study_outputs.py: what the controller-side study modules share."""
from __future__ import annotations

import os
import stat

import pytest

from ansible.module_utils.study_outputs import InputError, PrivateOutputs, parse_date, read_json


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_new_directory_is_made_private_and_a_second_pass_changes_nothing(tmp_path):
    target = tmp_path / "out"
    files = [(str(target / "a.csv"), b"a\r\n"), (str(target / "b.csv"), b"b\r\n")]
    outputs = PrivateOutputs(str(target), files)
    assert outputs.changed and outputs.differs == [True, True]
    assert not target.exists(), "comparing must not write (check mode relies on it)"
    old_umask = os.umask(0o022)  # makedirs alone would leave 0755 here
    try:
        assert outputs.write() == [True, True]
    finally:
        os.umask(old_umask)
    assert mode(target) == 0o700 and {mode(p) for p in target.iterdir()} == {0o600}
    again = PrivateOutputs(str(target), files)
    assert not again.changed and again.differs == [False, False]


def test_an_open_directory_is_a_change_even_when_the_files_are_the_same(tmp_path):
    target = tmp_path / "out"
    files = [(str(target / "a.csv"), b"a\r\n")]
    PrivateOutputs(str(target), files).write()
    target.chmod(0o755)
    outputs = PrivateOutputs(str(target), files)
    assert outputs.changed and outputs.differs == [False]
    outputs.write()
    assert mode(target) == 0o700


def test_only_the_file_that_differs_is_replaced(tmp_path):
    target = tmp_path / "out"
    PrivateOutputs(str(target), [(str(target / "a"), b"1"), (str(target / "b"), b"2")]).write()
    before = os.stat(target / "a").st_ino
    outputs = PrivateOutputs(str(target), [(str(target / "a"), b"1"), (str(target / "b"), b"3")])
    assert outputs.differs == [False, True]
    outputs.write()
    assert os.stat(target / "a").st_ino == before and (target / "b").read_bytes() == b"3"


@pytest.mark.parametrize("text, message", [
    ("2026-11-30", "must be YYYYMMDD"),
    ("20261131", "not a calendar date"),
    ("19791231", "before 1980"),
])
def test_bad_dates_are_refused_naming_them(text, message):
    with pytest.raises(InputError, match=message) as refused:
        parse_date(text)
    assert text in str(refused.value)


def test_bad_json_names_what_and_the_file(tmp_path):
    path = tmp_path / "users.json"
    path.write_text("{")
    with pytest.raises(InputError, match="users file .*users.json: not valid JSON"):
        read_json(str(path), "users file")
    with pytest.raises(InputError, match=r"users file .*absent\.json: cannot read it"):
        read_json(str(tmp_path / "absent.json"), "users file")
