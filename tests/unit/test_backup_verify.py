"""Archive verification: a good archive passes; truncation, bit flips, tampered or extra
members, an unsafe name or a broken database are each reported; an archive whose manifest is not
authenticated by the instance's key (HMAC-SHA256) is refused (issue 13, item 9)."""
import hashlib
import hmac
import io
import json
import os
import tarfile

import pytest

from support.backup_script import load, make_label_studio_db

backup = load()

KEY = b"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
OTHER_KEY = b"fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"


def _verify(path, tmp_path, key=KEY, **kwargs):
    return backup.verify_archive(str(path), str(tmp_path), key=key, **kwargs)


def _pack(tmp_path, members, manifest_members=None, db_bytes=None, name="a.tar.gz", key=KEY):
    """A gzip tar with members {name: bytes}, a manifest listing manifest_members and, unless key
    is None, the manifest's HMAC-SHA256 (computed here, independently of the script)."""
    listed = manifest_members if manifest_members is not None else {
        n: {"sha256": hashlib.sha256(b).hexdigest(), "size": len(b)} for n, b in members.items()}
    manifest = {"format": 1, "created_at": "2025-03-03T00:05:00.000000Z",
                "database": {"engine": "sqlite", "member": "label_studio.sqlite3"},
                "projects": [], "members": listed}
    body = json.dumps(manifest).encode()
    trailer = [("manifest.json", body)]
    if key is not None:
        trailer.append(("manifest.hmac", b"hmac-sha256 " + hmac.new(key, body, hashlib.sha256).hexdigest().encode()))
    path = tmp_path / name
    with tarfile.open(path, "w:gz") as tar:
        for n, data in list(members.items()) + trailer:
            info = tarfile.TarInfo(n)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def _members_of(path):
    with tarfile.open(path) as tar:
        return [(m.name, tar.extractfile(m).read()) for m in tar.getmembers()]


def _repack(path, members):
    with tarfile.open(path, "w:gz") as tar:
        for n, data in members:
            info = tarfile.TarInfo(n)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


@pytest.fixture
def good(tmp_path):
    db = tmp_path / "src.sqlite3"
    make_label_studio_db(db)
    members = {"label_studio.sqlite3": db.read_bytes(), "media/upload/1/a.txt": b"hello",
               "service.env": b"SECRET_KEY=abc\n"}
    return tmp_path, members


def test_a_good_archive_passes_and_returns_its_manifest(good):
    tmp_path, members = good
    manifest = _verify(_pack(tmp_path, members), tmp_path)
    assert set(manifest["members"]) == set(members)


@pytest.mark.parametrize("keep_fraction", [0.0, 0.1, 0.5, 0.9, 0.999])
def test_truncated_archives_fail(good, keep_fraction):
    tmp_path, members = good
    path = _pack(tmp_path, members)
    data = path.read_bytes()
    cut = int(len(data) * keep_fraction)
    path.write_bytes(data[:cut])
    with pytest.raises(backup.BackupError, match="truncated or corrupt|no manifest"):
        _verify(path, tmp_path)


def test_losing_only_the_gzip_trailer_fails(good):
    # tarfile's own stream reader never looks at the CRC/length trailer.
    tmp_path, members = good
    path = _pack(tmp_path, members)
    path.write_bytes(path.read_bytes()[:-4])
    with pytest.raises(backup.BackupError, match="truncated or corrupt"):
        _verify(path, tmp_path)


def test_flipped_bytes_fail(good):
    tmp_path, members = good
    path = _pack(tmp_path, members)
    data = bytearray(path.read_bytes())
    for offset in (len(data) // 3, len(data) // 2, len(data) - 6):
        flipped = bytearray(data)
        flipped[offset] ^= 0x55
        path.write_bytes(bytes(flipped))
        with pytest.raises(backup.BackupError):
            _verify(path, tmp_path)


def test_a_member_that_does_not_match_its_checksum_fails(good):
    tmp_path, members = good
    listed = {n: {"sha256": hashlib.sha256(b).hexdigest(), "size": len(b)} for n, b in members.items()}
    path = _pack(tmp_path, {**members, "media/upload/1/a.txt": b"HELLO"}, listed)
    with pytest.raises(backup.BackupError, match="a.txt does not match its checksum"):
        _verify(path, tmp_path)


def test_missing_and_unlisted_members_fail(good):
    tmp_path, members = good
    listed = {n: {"sha256": hashlib.sha256(b).hexdigest(), "size": len(b)} for n, b in members.items()}
    extra = _pack(tmp_path, {**members, "media/x": b"x"}, listed, name="extra.tar.gz")
    with pytest.raises(backup.BackupError, match="media/x is in the archive but not in the manifest"):
        _verify(extra, tmp_path)
    fewer = dict(members)
    del fewer["service.env"]
    missing = _pack(tmp_path, fewer, listed, name="missing.tar.gz")
    with pytest.raises(backup.BackupError, match="service.env is missing"):
        _verify(missing, tmp_path)


def test_unsafe_names_are_refused(good):
    tmp_path, members = good
    # Not under media/: verify extracts such a member (it could be the database), so an unsafe
    # name would land two levels up from its temp dir (.verify-*, in tmp_path): tmp_path/evil.
    path = _pack(tmp_path, {**members, "x/../../evil": b"x"}, name="evil.tar.gz")
    with pytest.raises(backup.BackupError, match="unsafe member name"):
        _verify(path, tmp_path)
    assert not (tmp_path / "evil").exists() and not (tmp_path.parent / "evil").exists()
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
        _verify(path, tmp_path)


def test_verification_leaves_no_extracted_files(good):
    tmp_path, members = good
    before = set(os.listdir(tmp_path))
    _verify(_pack(tmp_path, members), tmp_path)
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


# ---------------------------------------------------------------------------------------------
# Authenticity: HMAC-SHA256 of the manifest with the instance's key


def test_a_manifest_edited_with_recomputed_checksums_is_refused(good):
    # The attack the checksums alone let through: change a member, recompute its sha256 in the
    # manifest, keep the archive well-formed.
    tmp_path, members = good
    path = _pack(tmp_path, members)
    edited = []
    for name, data in _members_of(path):
        if name == "service.env":
            data = b"SECRET_KEY=attacker\n"
        elif name == "manifest.json":
            manifest = json.loads(data)
            manifest["members"]["service.env"] = {"sha256": hashlib.sha256(b"SECRET_KEY=attacker\n").hexdigest(),
                                                  "size": len(b"SECRET_KEY=attacker\n")}
            data = json.dumps(manifest).encode()
        edited.append((name, data))
    _repack(path, edited)
    with pytest.raises(backup.BackupError, match=r"a\.tar\.gz.*not authenticated.*does not match"):
        _verify(path, tmp_path)


def test_an_archive_signed_with_another_key_is_refused(good):
    tmp_path, members = good
    path = _pack(tmp_path, members, key=OTHER_KEY)
    with pytest.raises(backup.BackupError, match="not authenticated"):
        _verify(path, tmp_path)


def test_an_unsigned_archive_is_refused_unless_explicitly_allowed(good):
    tmp_path, members = good
    path = _pack(tmp_path, members, key=None)
    with pytest.raises(backup.BackupError, match=r"a\.tar\.gz.*no signature"):
        _verify(path, tmp_path)
    assert set(_verify(path, tmp_path, allow_unsigned=True)["members"]) == set(members)


def test_allowing_unsigned_archives_never_lets_a_bad_signature_through(good):
    tmp_path, members = good
    path = _pack(tmp_path, members, key=OTHER_KEY)
    with pytest.raises(backup.BackupError, match="not authenticated"):
        _verify(path, tmp_path, allow_unsigned=True)


def test_a_second_signature_member_is_refused(good):
    tmp_path, members = good
    path = _pack(tmp_path, members)
    entries = _members_of(path)
    _repack(path, entries + [entries[-1]])
    with pytest.raises(backup.BackupError, match="appears twice"):
        _verify(path, tmp_path)


def test_sign_and_check_are_pure_and_agree():
    body = b'{"members": {}}'
    signature = backup.sign_manifest(body, KEY)
    assert signature == "hmac-sha256 " + hmac.new(KEY, body, hashlib.sha256).hexdigest()
    assert backup.signature_problem(body, signature, KEY) is None
    assert "does not match" in backup.signature_problem(body + b" ", signature, KEY)
    assert "does not match" in backup.signature_problem(body, signature, OTHER_KEY)
    assert "no signature" in backup.signature_problem(body, None, KEY)
    assert backup.signature_problem(body, None, KEY, allow_unsigned=True) is None
    assert "unreadable" in backup.signature_problem(body, "md5 abc", KEY)


def test_the_key_file_must_exist_be_private_and_long_enough(tmp_path):
    key = tmp_path / "backup.key"
    with pytest.raises(backup.BackupError, match="no backup key at .*backup.key"):
        backup.read_key(str(key))
    key.write_bytes(KEY + b"\n")
    key.chmod(0o644)
    with pytest.raises(backup.BackupError, match="readable by other accounts"):
        backup.read_key(str(key))
    key.chmod(0o600)
    assert backup.read_key(str(key)) == KEY
    key.write_bytes(b"short\n")
    with pytest.raises(backup.BackupError, match="too short"):
        backup.read_key(str(key))
