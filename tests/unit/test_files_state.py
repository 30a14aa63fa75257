"""assert_untouched (tests/support/files.py) catches what changed=0 alone would not."""
from __future__ import annotations

import os

import pytest

from support.files import assert_untouched, files_state


def test_a_rewrite_with_the_same_bytes_is_caught(tmp_path):
    (tmp_path / "a.csv").write_text("x\n")
    before = files_state(tmp_path)
    os.utime(tmp_path / "a.csv", ns=(1, before[str(tmp_path / "a.csv")][1] + 1000))
    with pytest.raises(AssertionError, match="same content, new mtime"):
        assert_untouched(before, tmp_path)


def test_changed_added_and_removed_files_are_caught(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.json").write_text("[]")
    before = files_state(tmp_path)
    (tmp_path / "b.json").write_text("{}")
    with pytest.raises(AssertionError, match="added/removed"):
        assert_untouched(before, tmp_path)
    (tmp_path / "b.json").unlink()
    stamp = (tmp_path / "sub" / "a.json").stat().st_mtime_ns
    (tmp_path / "sub" / "a.json").write_text("[1]")
    os.utime(tmp_path / "sub" / "a.json", ns=(stamp, stamp))
    with pytest.raises(AssertionError, match="other content"):
        assert_untouched(before, tmp_path)


def test_untouched_files_pass(tmp_path):
    (tmp_path / "a").write_text("1")
    before = files_state(tmp_path, tmp_path / "a")
    assert_untouched(before, tmp_path, tmp_path / "a")
