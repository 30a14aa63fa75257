"""Retention: which archives a backup run deletes (after the new one is verified)."""
import pytest

from support.backup_script import load

backup = load()

NAMES = [
    "ls-aaa-20250101T000500Z.tar.gz",
    "ls-aaa-20250101T120500Z.tar.gz",
    "ls-aaa-20250102T000500Z.tar.gz",
    "ls-aaa-20241231T120500Z.tar.gz",
    "ls-bbb-20200101T000500Z.tar.gz",          # another instance in the same dir
    ".ls-aaa-20250103T000500Z.tar.gz.partial",  # a run in progress / interrupted
    "ls-aaa-backup.log",
    "ls-aaa-20250101T000500Z.tar.gz.bak",
    "notes.txt",
]


def test_keeps_the_newest_n_and_returns_the_rest_oldest_first():
    assert backup.select_expired(NAMES, "ls-aaa", 2) == [
        "ls-aaa-20241231T120500Z.tar.gz", "ls-aaa-20250101T000500Z.tar.gz"]


def test_keeping_at_least_as_many_as_exist_deletes_nothing():
    assert backup.select_expired(NAMES, "ls-aaa", 4) == []
    assert backup.select_expired(NAMES, "ls-aaa", 14) == []


def test_keep_one_leaves_only_the_newest():
    expired = backup.select_expired(NAMES, "ls-aaa", 1)
    assert "ls-aaa-20250102T000500Z.tar.gz" not in expired
    assert len(expired) == 3


def test_never_touches_other_instances_temp_files_or_logs():
    for keep in (1, 2, 3):
        expired = backup.select_expired(NAMES, "ls-aaa", keep)
        assert all(name.startswith("ls-aaa-2") and name.endswith(".tar.gz") for name in expired)
    assert backup.select_expired(NAMES, "ls-bbb", 1) == []


def test_instance_names_are_not_patterns():
    names = ["ls-a.b-20250101T000500Z.tar.gz", "ls-axb-20250101T000500Z.tar.gz"]
    assert backup.select_expired(names + ["ls-a.b-20250102T000500Z.tar.gz"], "ls-a.b", 1) == [
        "ls-a.b-20250101T000500Z.tar.gz"]


def test_keep_must_be_positive():
    with pytest.raises(ValueError):
        backup.select_expired(NAMES, "ls-aaa", 0)


def test_archive_name_is_utc_and_sorts_by_time():
    import datetime as dt
    local = dt.datetime(2025, 1, 1, 13, 5, 9, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert backup.archive_name("ls-aaa", local) == "ls-aaa-20250101T120509Z.tar.gz"
