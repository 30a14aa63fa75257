"""The manifest: counts read from a database snapshot, totals, checksums of the members."""
import datetime as dt
import json

from support.backup_script import load, make_label_studio_db

backup = load()


def test_summary_counts_tasks_and_annotations_per_project(tmp_path):
    db = tmp_path / "label_studio.sqlite3"
    make_label_studio_db(db)
    summary = backup.summarize_sqlite(str(db))
    assert summary["projects"] == [
        {"id": 1, "title": "RRS: annotator1", "tasks": 2, "annotations": 2, "skipped": 1},
        {"id": 2, "title": "RRS: annotator2", "tasks": 1, "annotations": 1, "skipped": 0},
        {"id": 3, "title": "empty", "tasks": 0, "annotations": 0, "skipped": 0},
    ]
    # Newest of task and annotation updates, Django's naive UTC turned into ISO UTC.
    assert summary["newest_update"] == "2025-03-02T09:30:00.250000Z"


def test_build_manifest_totals_and_members():
    summary = {"projects": [{"id": 1, "title": "a", "tasks": 3, "annotations": 2, "skipped": 0},
                            {"id": 2, "title": "b", "tasks": 4, "annotations": 5, "skipped": 1}],
               "newest_update": "2025-03-02T09:30:00.250000Z"}
    members = {"media/upload/1/x.txt": {"sha256": "b" * 64, "size": 3},
               "label_studio.sqlite3": {"sha256": "a" * 64, "size": 4096}}
    created = dt.datetime(2025, 3, 3, 0, 5, tzinfo=dt.timezone.utc)
    manifest = backup.build_manifest(
        instance="ls-aaa", created_at=created, finished_at=created + dt.timedelta(seconds=2),
        label_studio_version="1.23.2", hostname="node1", data_dir="/d", engine="sqlite",
        database_member="label_studio.sqlite3", database_details={"restarts": 0}, summary=summary,
        members=members)
    assert manifest["created_at"] == "2025-03-03T00:05:00.000000Z"
    assert manifest["finished_at"] == "2025-03-03T00:05:02.000000Z"
    assert manifest["totals"] == {"projects": 2, "tasks": 7, "annotations": 7}
    assert manifest["database"] == {"engine": "sqlite", "member": "label_studio.sqlite3",
                                    "newest_update": "2025-03-02T09:30:00.250000Z", "restarts": 0}
    assert list(manifest["members"]) == ["label_studio.sqlite3", "media/upload/1/x.txt"]
    assert manifest["label_studio_version"] == "1.23.2"
    json.dumps(manifest)  # it is written as JSON


def test_label_studio_version_from_the_env_dist_info(tmp_path):
    info = tmp_path / "lib/python3.11/site-packages/label_studio-1.23.2.dist-info"
    info.mkdir(parents=True)
    (tmp_path / "lib/python3.11/site-packages/label_studio_sdk-2.1.2.dist-info").mkdir()
    assert backup.label_studio_version(str(tmp_path)) == "1.23.2"
    assert backup.label_studio_version(str(tmp_path / "missing")) == "unknown"
    assert backup.label_studio_version(None) == "unknown"


def test_media_members_are_relative_sorted_and_skip_links(tmp_path):
    (tmp_path / "media/upload/2").mkdir(parents=True)
    (tmp_path / "media/upload/1").mkdir(parents=True)
    (tmp_path / "media/upload/2/b.csv").write_text("b")
    (tmp_path / "media/upload/1/a.json").write_text("a")
    (tmp_path / "media/upload/1/link").symlink_to(tmp_path / "media/upload/1/a.json")
    assert [name for name, _ in backup.media_members(str(tmp_path))] == [
        "media/upload/1/a.json", "media/upload/2/b.csv"]
    assert backup.media_members(str(tmp_path / "none")) == []


def test_databases_in_dirs_with_uri_characters_are_read(tmp_path):
    # SQLite decodes %XX in URIs: a backup dir called "backups%daily" once broke the snapshot.
    odd = tmp_path / "backups%daily ?#x"
    odd.mkdir()
    make_label_studio_db(odd / "label_studio.sqlite3")
    assert backup.summarize_sqlite(str(odd / "label_studio.sqlite3"))["projects"][0]["tasks"] == 2
    backup.check_sqlite(str(odd / "label_studio.sqlite3"))
    work = tmp_path / "work%2Fdir"
    work.mkdir()
    snapshot = backup.take_sqlite_snapshot(str(odd), str(work))
    assert snapshot["summary"]["projects"][1]["annotations"] == 1
