"""Archive verification: a good archive passes; truncation, bit flips, tampered or extra
members, an unsafe name or a broken database are each reported."""
import hashlib
import io
import json
import os
import tarfile

import pytest

from support.backup_script import load, make_label_studio_db

backup = load()


def _pack(tmp_path, members, manifest_members=None, db_bytes=None, name="a.tar.gz"):
    """A gzip tar with members {name: bytes} and a manifest listing manifest_members."""
    listed = manifest_members if manifest_members is not None else {
        n: {"sha256": hashlib.sha256(b).hexdigest(), "size": len(b)} for n, b in members.items()}
    manifest = {"format": 1, "created_at": "2025-03-03T00:05:00.000000Z",
                "database": {"engine": "sqlite", "member": "label_studio.sqlite3"},
                "projects": [], "members": listed}
    path = tmp_path / name
    with tarfile.open(path, "w:gz") as tar:
        for n, data in list(members.items()) + [("manifest.json", json.dumps(manifest).encode())]:
            info = tarfile.TarInfo(n)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


@pytest.fixture
def good(tmp_path):
    db = tmp_path / "src.sqlite3"
    make_label_studio_db(db)
    members = {"label_studio.sqlite3": db.read_bytes(), "media/upload/1/a.txt": b"hello",
               "service.env": b"SECRET_KEY=abc\n"}
    return tmp_path, members


def test_a_good_archive_passes_and_returns_its_manifest(good):
    tmp_path, members = good
    manifest = backup.verify_archive(str(_pack(tmp_path, members)), str(tmp_path))
    assert set(manifest["members"]) == set(members)


@pytest.mark.parametrize("keep_fraction", [0.0, 0.1, 0.5, 0.9, 0.999])
def test_truncated_archives_fail(good, keep_fraction):
    tmp_path, members = good
    path = _pack(tmp_path, members)
    data = path.read_bytes()
    cut = int(len(data) * keep_fraction)
    path.write_bytes(data[:cut])
    with pytest.raises(backup.BackupError, match="truncated or corrupt|no manifest"):
        backup.verify_archive(str(path), str(tmp_path))


def test_losing_only_the_gzip_trailer_fails(good):
    # tarfile's own stream reader never looks at the CRC/length trailer.
    tmp_path, members = good
    path = _pack(tmp_path, members)
    path.write_bytes(path.read_bytes()[:-4])
    with pytest.raises(backup.BackupError, match="truncated or corrupt"):
        backup.verify_archive(str(path), str(tmp_path))


def test_flipped_bytes_fail(good):
    tmp_path, members = good
    path = _pack(tmp_path, members)
    data = bytearray(path.read_bytes())
    for offset in (len(data) // 3, len(data) // 2, len(data) - 6):
        flipped = bytearray(data)
        flipped[offset] ^= 0x55
        path.write_bytes(bytes(flipped))
        with pytest.raises(backup.BackupError):
            backup.verify_archive(str(path), str(tmp_path))


def test_a_member_that_does_not_match_its_checksum_fails(good):
    tmp_path, members = good
    listed = {n: {"sha256": hashlib.sha256(b).hexdigest(), "size": len(b)} for n, b in members.items()}
    path = _pack(tmp_path, {**members, "media/upload/1/a.txt": b"HELLO"}, listed)
    with pytest.raises(backup.BackupError, match="a.txt does not match its checksum"):
        backup.verify_archive(str(path), str(tmp_path))


def test_missing_and_unlisted_members_fail(good):
    tmp_path, members = good
    listed = {n: {"sha256": hashlib.sha256(b).hexdigest(), "size": len(b)} for n, b in members.items()}
    extra = _pack(tmp_path, {**members, "media/x": b"x"}, listed, name="extra.tar.gz")
    with pytest.raises(backup.BackupError, match="media/x is in the archive but not in the manifest"):
        backup.verify_archive(str(extra), str(tmp_path))
    fewer = dict(members)
    del fewer["service.env"]
    missing = _pack(tmp_path, fewer, listed, name="missing.tar.gz")
    with pytest.raises(backup.BackupError, match="service.env is missing"):
        backup.verify_archive(str(missing), str(tmp_path))


def test_unsafe_names_are_refused(good):
    tmp_path, members = good
    path = _pack(tmp_path, {**members, "media/../../evil": b"x"}, name="evil.tar.gz")
    with pytest.raises(backup.BackupError, match="unsafe member name"):
        backup.verify_archive(str(path), str(tmp_path))
    assert not (tmp_path.parent / "evil").exists()
    for name in ("/etc/passwd", "a/../b", "", "./a", "a//b", "a\\b"):
        assert not backup.safe_member_name(name)
    assert backup.safe_member_name("media/upload/1/a b.txt")


def test_a_database_that_fails_integrity_check_fails(good):
    tmp_path, members = good
    db = bytearray(members["label_studio.sqlite3"])
    for page_start in range(4096, len(db), 4096):
        db[page_start] = 0x0A if db[page_start] == 0x0D else 0x0D  # wrong b-tree page type
    path = _pack(tmp_path, {**members, "label_studio.sqlite3": bytes(db)})
    with pytest.raises(backup.BackupError, match="integrity_check|not a readable SQLite"):
        backup.verify_archive(str(path), str(tmp_path))


def test_verification_leaves_no_extracted_files(good):
    tmp_path, members = good
    before = set(os.listdir(tmp_path))
    backup.verify_archive(str(_pack(tmp_path, members)), str(tmp_path))
    assert set(os.listdir(tmp_path)) == before | {"a.tar.gz"}


def test_check_members_pure():
    manifest = {"database": {"member": "db"}, "members": {"db": {"sha256": "1", "size": 1}}}
    assert backup.check_members(manifest, {"db": {"sha256": "1", "size": 1}}) == []
    assert backup.check_members(manifest, {"db": {"sha256": "1", "size": 2}}) == [
        "db does not match its checksum"]
    assert backup.check_members({"members": {}}, {}) == ["the manifest lists no members"]
    assert backup.check_members({"database": {"member": "x"}, "members": {"db": {"sha256": "1", "size": 1}}},
                                {"db": {"sha256": "1", "size": 1}}) == [
        "the manifest's database member is not among its members"]
