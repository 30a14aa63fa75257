"""Backup archives: what is in one, its manifest and signature, packing, reading and verifying.

An archive (`<instance>-YYYYMMDDTHHMMSSZ.tar.gz`) holds:
  label_studio.sqlite3  a snapshot of the database (SQLite online backup API), or
  label_studio.pgdump   with PostgreSQL (`pg_dump --format=custom`)
  media/...             uploads and export snapshots
  service.env           the instance's env file (SECRET_KEY)
  bootstrap.env         its first-start credentials (admin password, API token), if present
  manifest.json         versions, time, per-project counts, sha256 of every member
  manifest.hmac         last member: HMAC-SHA256 of manifest.json's bytes with the instance's key

The sha256 sums prove integrity; the HMAC proves origin: whoever edits a member and recomputes
its sum cannot recompute the HMAC without the key (--key-file: 0600 in the instance's state dir
on the node, and in the controller's credentials dir). Every command that reads an archive
refuses one that fails the HMAC or lacks it (--allow-unsigned: archives made before signing).
"""
from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import hmac
import io
import json
import os
import tarfile
import tempfile
import time
import zlib

from .counts import totals
from .errors import NodeError as BackupError
from .snapshot import DATABASE_CHECKS
from .times import iso_utc

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SIGNATURE = "manifest.hmac"
SIGNATURE_SCHEME = "hmac-sha256"
MIN_KEY_LENGTH = 32
# The instance's env files in its state dir: the service's own (SECRET_KEY) and the first-start
# credentials (admin password, API token), which the restored database was created with.
ENV_MEMBERS = ("service.env", "bootstrap.env")
MEDIA_DIR = "media"
STAMP_FORMAT = "%Y%m%dT%H%M%SZ"
CHUNK = 1024 * 1024


def archive_name(instance: str, moment: dt.datetime) -> str:
    return f"{instance}-{moment.astimezone(dt.timezone.utc).strftime(STAMP_FORMAT)}.tar.gz"



def media_members(data_dir: str) -> list:
    """(arcname, path) of every regular file under DATA_DIR/media, in a stable order."""
    root = os.path.join(data_dir, MEDIA_DIR)
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            if os.path.isfile(path) and not os.path.islink(path):
                found.append((os.path.relpath(path, data_dir).replace(os.sep, "/"), path))
    return found


def safe_member_name(name: str) -> bool:
    """Relative, normalized, no '..': a name that can only land inside the target dir."""
    if not name or name.startswith("/") or "\\" in name:
        return False
    parts = name.split("/")
    return all(part not in ("", ".", "..") for part in parts)


def build_manifest(*, instance: str, created_at: dt.datetime, finished_at: dt.datetime,
                   label_studio_version: str, hostname: str, data_dir: str, engine: str,
                   database_member: str, database_details: dict, summary: dict,
                   members: dict) -> dict:
    """The manifest: what a restore needs to verify and check the archive. Pure."""
    projects = summary["projects"]
    return {
        "format": FORMAT_VERSION,
        "instance": instance,
        "created_at": iso_utc(created_at),
        "finished_at": iso_utc(finished_at),
        "label_studio_version": label_studio_version,
        "hostname": hostname,
        "data_dir": data_dir,
        "database": {"engine": engine, "member": database_member,
                     "newest_update": summary["newest_update"], **database_details},
        "projects": projects,
        "totals": totals(projects),
        "members": {name: dict(members[name]) for name in sorted(members)},
    }


def read_key(path: str) -> bytes:
    """The instance's backup key (the file's text, stripped); refused if not private."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        raise BackupError(f"no backup key at {path}: deploy this instance (deploy.yml installs it)") from None
    with os.fdopen(fd, "rb") as fh:
        if os.fstat(fh.fileno()).st_mode & 0o077:
            raise BackupError(f"the backup key {path} is readable by other accounts: make it 0600")
        key = fh.read().strip()
    if len(key) < MIN_KEY_LENGTH:
        raise BackupError(f"the backup key {path} is too short (at least {MIN_KEY_LENGTH} characters)")
    return key


def sign_manifest(body: bytes, key: bytes) -> str:
    """The signature member's text for a manifest's exact bytes. Pure."""
    return f"{SIGNATURE_SCHEME} " + hmac.new(key, body, hashlib.sha256).hexdigest()


def signature_problem(body: bytes, signature, key: bytes, allow_unsigned: bool = False):
    """Why a manifest (its bytes) is not authenticated by signature and key, or None. Pure."""
    if signature is None:
        if allow_unsigned:
            return None
        return ("it has no signature (an archive made before backups were signed, or one "
                "assembled by someone else); restore an older archive only with the explicit "
                "override for unsigned archives")
    scheme, _, digest = signature.strip().partition(" ")
    if scheme != SIGNATURE_SCHEME or not digest:
        return f"its signature is unreadable (expected '{SIGNATURE_SCHEME} HEX')"
    if not hmac.compare_digest(sign_manifest(body, key), f"{SIGNATURE_SCHEME} {digest}"):
        return ("its manifest does not match its HMAC-SHA256 signature: edited after it was "
                "signed, or signed with another instance's key")
    return None


class _HashingReader(io.RawIOBase):
    """Reads a file for tarfile while hashing exactly the bytes that go into the archive."""

    def __init__(self, fh):
        super().__init__()
        self._fh = fh
        self.digest = hashlib.sha256()

    def readable(self):
        return True

    def readinto(self, buffer):
        data = self._fh.read(len(buffer))
        self.digest.update(data)
        buffer[:len(data)] = data
        return len(data)


def _add_file(tar: tarfile.TarFile, arcname: str, path: str) -> dict:
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        info = tarfile.TarInfo(arcname)
        info.size, info.mode, info.mtime = size, 0o600, int(os.path.getmtime(path))
        reader = _HashingReader(fh)
        tar.addfile(info, io.BufferedReader(reader, CHUNK))
        return {"sha256": reader.digest.hexdigest(), "size": size}


def pack_archive(dest: str, members: list, make_manifest, key: bytes) -> dict:
    """Write members (arcname, path), then the manifest (built from their checksums) and its
    signature with key to dest.

    dest is created 0600 and must not exist. Returns the manifest.
    """
    fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as raw:
        with tarfile.open(fileobj=raw, mode="w:gz", compresslevel=6,
                          format=tarfile.PAX_FORMAT) as tar:
            checksums = {arcname: _add_file(tar, arcname, path) for arcname, path in members}
            manifest = make_manifest(checksums)
            body = json.dumps(manifest, indent=2, sort_keys=True).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mode, info.mtime = len(body), 0o600, int(time.time())
            tar.addfile(info, io.BytesIO(body))
            signature = (sign_manifest(body, key) + "\n").encode()
            info = tarfile.TarInfo(SIGNATURE)
            info.size, info.mode, info.mtime = len(signature), 0o600, int(time.time())
            tar.addfile(info, io.BytesIO(signature))
        raw.flush()
        os.fsync(raw.fileno())
    return manifest


def check_members(manifest: dict, seen: dict) -> list:
    """Problems between a manifest's member list and what was read from the archive. Pure.

    seen maps member name -> {"sha256", "size"} as computed while reading the archive.
    """
    problems = []
    listed = manifest.get("members")
    if not isinstance(listed, dict) or not listed:
        return ["the manifest lists no members"]
    database = manifest.get("database") or {}
    if database.get("member") not in listed:
        problems.append("the manifest's database member is not among its members")
    for name in sorted(listed):
        if not safe_member_name(name):
            problems.append(f"unsafe member name {name!r}")
        elif name not in seen:
            problems.append(f"{name} is missing from the archive")
        elif seen[name]["sha256"] != listed[name].get("sha256") or \
                seen[name]["size"] != listed[name].get("size"):
            problems.append(f"{name} does not match its checksum")
    for name in sorted(set(seen) - set(listed)):
        problems.append(f"{name} is in the archive but not in the manifest")
    return problems


def _copy_member(tar: tarfile.TarFile, member: tarfile.TarInfo, out_path: str | None) -> dict:
    digest, size = hashlib.sha256(), 0
    source = tar.extractfile(member)
    out = open(out_path, "xb") if out_path else None
    try:
        for block in iter(lambda: source.read(CHUNK), b""):
            digest.update(block)
            size += len(block)
            if out:
                out.write(block)
    finally:
        if out:
            out.close()
    return {"sha256": digest.hexdigest(), "size": size}


def read_archive(path: str, extract_to: str | None = None, only=None, *, key: bytes,
                 allow_unsigned: bool = False) -> tuple:
    """Read an archive once, front to back: checksum every member, keep the manifest, and
    extract the members `only(name)` accepts (all regular members if only is None) under
    extract_to. Returns (manifest, seen). Raises BackupError for unreadable archives and for
    a manifest that key does not authenticate (the callers then check members against it)."""
    body, signature, seen = None, None, {}
    try:
        # gzip (not tarfile's own "r|gz", which ignores the trailer) checks the CRC and length
        # once the stream is drained to its end: a truncated or bit-flipped archive fails here.
        with gzip.open(path, "rb") as gz, tarfile.open(fileobj=gz, mode="r|") as tar:
            for member in tar:
                name = member.name
                if not member.isfile():
                    if member.isdir():
                        continue
                    raise BackupError(f"{path}: unexpected non-file member {name!r}")
                if name in (MANIFEST, SIGNATURE):
                    if (body if name == MANIFEST else signature) is not None:
                        raise BackupError(f"{path}: member {name!r} appears twice")
                    data = tar.extractfile(member).read()
                    if name == MANIFEST:
                        body = data
                    else:
                        signature = data.decode("ascii", "replace")
                    continue
                if not safe_member_name(name):
                    raise BackupError(f"{path}: unsafe member name {name!r}")
                if name in seen:
                    raise BackupError(f"{path}: member {name!r} appears twice")
                target = None
                if extract_to and (only is None or only(name)):
                    target = os.path.join(extract_to, *name.split("/"))
                    os.makedirs(os.path.dirname(target), mode=0o700, exist_ok=True)
                seen[name] = _copy_member(tar, member, target)
            while gz.read(CHUNK):
                pass
    except (tarfile.TarError, EOFError, OSError, zlib.error, ValueError) as err:
        raise BackupError(f"{path} is truncated or corrupt ({type(err).__name__}: {err})") from err
    if body is None:
        raise BackupError(f"{path} has no {MANIFEST}: truncated or not a backup of this kind")
    problem = signature_problem(body, signature, key, allow_unsigned)
    if problem:
        raise BackupError(f"{path} is not authenticated by this instance's backup key: {problem}")
    try:
        manifest = json.loads(body.decode())
    except ValueError as err:
        raise BackupError(f"{path}: its {MANIFEST} is not JSON ({err})") from err
    return manifest, seen


def verify_archive(path: str, work_dir: str, *, key: bytes, allow_unsigned: bool = False) -> dict:
    """The manifest's signature, checksums of every member and the database's own check.
    Returns the manifest."""
    with tempfile.TemporaryDirectory(prefix=".verify-", dir=work_dir) as tmp:
        manifest, seen = read_archive(path, tmp, only=is_database_candidate, key=key,
                                      allow_unsigned=allow_unsigned)
        problems = check_members(manifest, seen)
        if problems:
            raise BackupError(f"{path} failed verification: " + "; ".join(problems))
        database = manifest["database"]
        check = DATABASE_CHECKS.get(database.get("engine"))
        if check is None:
            raise BackupError(f"{path}: unknown database engine {database.get('engine')!r}")
        check(os.path.join(tmp, *database["member"].split("/")))
    return manifest


def is_database_candidate(name: str) -> bool:
    # The manifest comes last, so while streaming the database member is not known by name yet:
    # anything that is neither media nor the env file is extracted, then checked by the manifest.
    return name not in ENV_MEMBERS and not name.startswith(MEDIA_DIR + "/")




def archive_summary(manifest: dict) -> dict:
    keys = ("format", "instance", "created_at", "finished_at", "label_studio_version",
            "hostname", "data_dir", "database", "projects", "totals")
    return {key: manifest.get(key) for key in keys}


def key_args(args) -> dict:
    """How the archive-reading commands authenticate: the key file, and the explicit override."""
    return {"key": read_key(args.key_file), "allow_unsigned": getattr(args, "allow_unsigned", False)}
