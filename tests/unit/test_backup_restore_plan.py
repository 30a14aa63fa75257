"""Restore decisions: is the live database newer than the backup; secrets in the env file."""
import pytest

from support.backup_script import load

backup = load()

MANIFEST = {"created_at": "2025-03-03T00:05:00.500000Z"}


def test_no_database_or_no_change_is_never_newer():
    assert not backup.newer_than_backup(None, MANIFEST)
    assert not backup.newer_than_backup("", MANIFEST)


def test_a_change_after_the_snapshot_began_is_newer():
    assert backup.newer_than_backup("2025-03-03T00:05:00.500001Z", MANIFEST)
    assert backup.newer_than_backup("2025-03-03 00:06:00", MANIFEST)  # Django/SQLite style, UTC


def test_changes_before_or_at_the_snapshot_are_not_newer():
    assert not backup.newer_than_backup("2025-03-03T00:05:00.500000Z", MANIFEST)
    assert not backup.newer_than_backup("2025-03-02 23:59:59.999999", MANIFEST)


def test_times_with_offsets_compare_as_instants():
    assert not backup.newer_than_backup("2025-03-03T01:05:00+01:00", MANIFEST)
    assert backup.newer_than_backup("2025-03-03T01:05:01+01:00", MANIFEST)


def test_secrets_read_env_files_with_the_one_parser():
    # The archive's service.env/bootstrap.env are read by the same parser as the modules use
    # (module_utils/env_file.py, installed in the package): Ansible-quoted values come back
    # whole, and a line no shell would read the same way is refused, not skipped.
    text = ("# comment\n"
            "LABEL_STUDIO_BASE_DATA_DIR='/data/with space'\n"
            "SECRET_KEY=abcDEF123\n"
            "LABEL_STUDIO_PASSWORD='it'\"'\"'s $secret'\n"
            "SENTRY_DSN=\n")
    values = backup.parse_env_file(text)
    assert values["SECRET_KEY"] == "abcDEF123"
    assert values["LABEL_STUDIO_PASSWORD"] == "it's $secret"
    assert values["LABEL_STUDIO_BASE_DATA_DIR"] == "/data/with space"
    assert values["SENTRY_DSN"] == ""
    with pytest.raises(ValueError, match="line 6: expected NAME=VALUE"):
        backup.parse_env_file(text + "not a line\n")


def test_counts_by_project_ignores_titles_and_skips():
    rows = [{"id": 1, "title": "a", "tasks": 2, "annotations": 3, "skipped": 1}]
    renamed = [{"id": 1, "title": "b", "tasks": 2, "annotations": 3, "skipped": 0}]
    assert backup.counts_by_project(rows) == backup.counts_by_project(renamed) == {
        "1": {"tasks": 2, "annotations": 3}}
    one_more = [dict(rows[0], annotations=4)]
    assert backup.counts_by_project(one_more) != backup.counts_by_project(rows)
