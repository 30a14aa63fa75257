"""The script end to end on a synthetic data dir (no Label Studio): backup, then unpack into
another data dir; a bad archive leaves that data dir exactly as it was."""
import argparse
import json
import os
import sqlite3

import pytest

from support.backup_script import load, make_label_studio_db

backup = load()

KEY = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"


@pytest.fixture
def key_file(tmp_path):
    path = tmp_path / "backup.key"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(KEY + "\n")
    return str(path)


@pytest.fixture
def archive(tmp_path, key_file):
    data, state = tmp_path / "src/data", tmp_path / "src/state"
    (data / "media/upload/1").mkdir(parents=True)
    state.mkdir(parents=True)
    make_label_studio_db(data / "label_studio.sqlite3")
    (data / "media/upload/1/tasks.json").write_text("[]")
    (data / "export").mkdir()
    (data / "export/big-export.json").write_text("{}")  # regenerable: not backed up
    (state / "service.env").write_text("SECRET_KEY=k3y\nSENTRY_DSN=\n")
    (state / "bootstrap.env").write_text("LABEL_STUDIO_PASSWORD='p w'\nLABEL_STUDIO_USER_TOKEN=t0ken\n")
    args = argparse.Namespace(instance="ls-src", data_dir=str(data), state_dir=str(state),
                              backup_dir=str(tmp_path / "backups"), keep=2, env_dir=None,
                              engine="sqlite", lock_timeout=5, key_file=key_file)
    result = backup.cmd_backup(args)
    return result


def unpack_args(tmp_path, archive_path, data):
    return argparse.Namespace(archive=archive_path, data_dir=str(data),
                              aside=str(data) + ".before-restore-X", state_dir=str(tmp_path / "dst-state"),
                              lock_timeout=5, log=None, key_file=str(tmp_path / "backup.key"))


def test_backup_writes_a_private_verified_archive(archive, tmp_path):
    path = archive["archive"]
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert os.stat(tmp_path / "backups").st_mode & 0o777 == 0o700
    manifest = backup.verify_archive(path, str(tmp_path), key=KEY.encode())
    assert sorted(manifest["members"]) == ["bootstrap.env", "label_studio.sqlite3",
                                           "media/upload/1/tasks.json", "service.env"]
    assert manifest["totals"] == {"projects": 3, "tasks": 3, "annotations": 3}
    assert os.listdir(tmp_path / "backups") == [os.path.basename(path)]  # no temp files left


def test_unpack_swaps_in_the_archive_and_keeps_the_old_data_aside(archive, tmp_path):
    data = tmp_path / "dst/data"
    data.mkdir(parents=True)
    (data / "label_studio.sqlite3").write_text("old database")
    result = backup.cmd_unpack(unpack_args(tmp_path, archive["archive"], data))
    assert result["moved_aside"] == str(data) + ".before-restore-X"
    assert (tmp_path / "dst/data.before-restore-X/label_studio.sqlite3").read_text() == "old database"
    assert (data / "media/upload/1/tasks.json").read_text() == "[]"
    # Secrets go to the controller's credentials dir, not into the data dir.
    assert not (data / "service.env").exists() and not (data / "bootstrap.env").exists()
    assert backup.summarize_sqlite(str(data / "label_studio.sqlite3"))["projects"][0]["tasks"] == 2
    assert os.stat(data).st_mode & 0o777 == 0o700
    assert sorted(os.listdir(tmp_path / "dst")) == ["data", "data.before-restore-X"]


def test_secrets_come_from_both_env_files_in_the_archive(archive, tmp_path):
    args = argparse.Namespace(archive=archive["archive"], work_dir=str(tmp_path), key_file=str(tmp_path / "backup.key"))
    assert backup.cmd_secrets(args) == {"SECRET_KEY": "k3y", "LABEL_STUDIO_USER_TOKEN": "t0ken",
                                        "LABEL_STUDIO_PASSWORD": "p w"}


def test_a_truncated_archive_leaves_the_data_dir_untouched(archive, tmp_path):
    bad = tmp_path / "bad.tar.gz"
    with open(archive["archive"], "rb") as fh:
        bad.write_bytes(fh.read()[:-100])
    data = tmp_path / "dst/data"
    data.mkdir(parents=True)
    (data / "label_studio.sqlite3").write_text("current database")
    with pytest.raises(backup.BackupError, match="truncated or corrupt"):
        backup.cmd_unpack(unpack_args(tmp_path, str(bad), data))
    assert os.listdir(tmp_path / "dst") == ["data"]
    assert os.listdir(data) == ["label_studio.sqlite3"]
    assert (data / "label_studio.sqlite3").read_text() == "current database"


def test_plan_restore_reports_a_newer_live_database(archive, tmp_path):
    data = tmp_path / "dst/data"
    data.mkdir(parents=True)
    make_label_studio_db(data / "label_studio.sqlite3")
    args = argparse.Namespace(archive=archive["archive"], data_dir=str(data), work_dir=str(tmp_path),
                              key_file=str(tmp_path / "backup.key"))
    plan = backup.cmd_plan_restore(args)
    assert plan["current_is_newer"] is False and plan["same_counts"] is True
    conn = sqlite3.connect(data / "label_studio.sqlite3")
    conn.execute("UPDATE task SET updated_at = '2999-01-01 00:00:00' WHERE id = 10")
    conn.commit()
    conn.close()
    plan = backup.cmd_plan_restore(args)
    assert plan["current_is_newer"] is True
    json.dumps(plan)


def test_the_archive_is_signed_with_the_instance_key(archive, tmp_path, key_file):
    with pytest.raises(backup.BackupError, match="not authenticated"):
        backup.verify_archive(archive["archive"], str(tmp_path), key=b"another-key-" * 4)
    other = tmp_path / "other.key"
    fd = os.open(other, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("f" * 64)
    data = tmp_path / "dst/data"
    data.mkdir(parents=True)
    (data / "label_studio.sqlite3").write_text("current database")
    args = unpack_args(tmp_path, archive["archive"], data)
    args.key_file = str(other)
    with pytest.raises(backup.BackupError, match="not authenticated"):
        backup.cmd_unpack(args)
    assert os.listdir(tmp_path / "dst") == ["data"]
    assert (data / "label_studio.sqlite3").read_text() == "current database"
    with pytest.raises(backup.BackupError, match="not authenticated"):
        backup.cmd_secrets(argparse.Namespace(archive=archive["archive"], work_dir=str(tmp_path),
                                              key_file=str(other)))
