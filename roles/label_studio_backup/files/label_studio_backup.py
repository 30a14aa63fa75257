#!/usr/bin/env python3
"""Consistent, verified, dated backups of one Label Studio instance, and their restore.

Installed on the node by the label_studio_backup role and run by cron as the node account.
Standard library only, so any Python 3.8+ on the node can run it (the Label Studio env's or
/usr/bin/python3).

An archive (`<instance>-YYYYMMDDTHHMMSSZ.tar.gz`) holds:
  label_studio.sqlite3  a snapshot of the database (SQLite online backup API)
  media/...             uploads and export snapshots
  service.env           the instance's env file (SECRET_KEY)
  bootstrap.env         its first-start credentials (admin password, API token), if present
  manifest.json         versions, time, per-project counts, sha256 of every member
  manifest.hmac         last member: HMAC-SHA256 of manifest.json's bytes with the instance's key

The sha256 sums prove integrity; the HMAC proves origin: whoever edits a member and recomputes
its sum cannot recompute the HMAC without the key (--key-file: 0600 in the instance's state dir
on the node, and in the controller's credentials dir). Every command that reads an archive
refuses one that fails the HMAC or lacks it (--allow-unsigned: archives made before signing).

Taking the database snapshot is engine specific (SNAPSHOTTERS, DATABASE_CHECKS); packing,
verifying and retention are not. With PostgreSQL the database member is label_studio.pgdump
(`pg_dump --format=custom`, checked with `pg_restore --list`; see label_studio_backup_postgresql.py,
installed beside this script) and restore adds `load-postgresql` after `unpack`.

Commands (each prints one JSON object on stdout with --json / always for the restore helpers):
  backup         snapshot, pack, verify, rename into place, apply retention, log
  verify         check an archive (checksums, database integrity) and print its manifest
  inspect        summarize a live database read-only (counts, newest update)
  plan-restore   verify an archive and compare it with the live database of a data dir
  secrets        print the archive's secrets (for the restore playbook, which hides them)
  unpack         verify again while extracting, then swap the data dir (old one kept aside)
  load-postgresql  after unpack: the dump into a fresh database (the current one renamed aside)
"""
from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import errno
import fcntl
import glob
import gzip
import hashlib
import hmac
import io
import json
import logging
import os
import re
import shlex
import shutil
import socket
import sqlite3
import sys
import tarfile
import tempfile
import time
import urllib.parse
import zlib

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SIGNATURE = "manifest.hmac"
SIGNATURE_SCHEME = "hmac-sha256"
MIN_KEY_LENGTH = 32
SQLITE_MEMBER = "label_studio.sqlite3"
# The instance's env files in its state dir: the service's own (SECRET_KEY) and the first-start
# credentials (admin password, API token), which the restored database was created with.
ENV_MEMBERS = ("service.env", "bootstrap.env")
MEDIA_DIR = "media"
STAMP_FORMAT = "%Y%m%dT%H%M%SZ"
CHUNK = 1024 * 1024
# Secrets the restore carries over to the controller's credentials dir.
SECRET_NAMES = ("SECRET_KEY", "LABEL_STUDIO_USER_TOKEN", "LABEL_STUDIO_PASSWORD")

log = logging.getLogger("label-studio-backup")


class BackupError(Exception):
    """A failure with a message meant for the person reading the log or the playbook output."""


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------

def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def iso_utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> dt.datetime:
    """A manifest time ('...Z') or a Django/SQLite time ('YYYY-MM-DD HH:MM:SS.ffffff', UTC)."""
    value = text.strip().replace(" ", "T")
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    moment = dt.datetime.fromisoformat(value)
    if moment.tzinfo is None:
        # Django stores naive UTC in SQLite when USE_TZ is on (Label Studio's setting).
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment


def read_only_uri(path: str) -> str:
    """SQLite URI of a file opened read-only. Paths are percent-encoded: SQLite decodes %XX,
    ? and # in URIs, and a backup dir named e.g. "backups%daily" must still work."""
    return "file:" + urllib.parse.quote(os.path.abspath(path)) + "?mode=ro"


def archive_name(instance: str, moment: dt.datetime) -> str:
    return f"{instance}-{moment.astimezone(dt.timezone.utc).strftime(STAMP_FORMAT)}.tar.gz"


def file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def ensure_private_dir(path: str) -> None:
    os.makedirs(path, mode=0o700, exist_ok=True)
    os.chmod(path, 0o700)


def label_studio_version(env_dir: str | None) -> str:
    """Version of label-studio installed in the env (read from its dist-info, no import)."""
    if not env_dir:
        return "unknown"
    pattern = os.path.join(env_dir, "lib", "python*", "site-packages", "label_studio-*.dist-info")
    for info in sorted(glob.glob(pattern)):
        match = re.search(r"label_studio-([^-/]+)\.dist-info$", info)
        if match:
            return match.group(1)
    return "unknown"


@contextlib.contextmanager
def instance_lock(lock_path: str, timeout: float):
    """One backup or restore of an instance at a time (cron and a manual run may overlap)."""
    os.makedirs(os.path.dirname(lock_path), mode=0o700, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as err:
                if err.errno not in (errno.EAGAIN, errno.EACCES) or time.monotonic() > deadline:
                    raise BackupError(
                        f"another backup or restore of this instance holds {lock_path}") from err
                time.sleep(1)
        yield
    finally:
        os.close(fd)


# --------------------------------------------------------------------------------------------
# Database snapshot: SQLite (the engine-specific part)
# --------------------------------------------------------------------------------------------

class _Restarted(Exception):
    """The source changed under a stepwise backup often enough to give up on this step size."""


def snapshot_sqlite(db_path: str, dest_path: str, step_pages: int = 256, pause: float = 0.005,
                    max_restarts: int = 3, busy_retries: int = 8, timeout: float = 1800.0) -> dict:
    """Copy a live SQLite database with the online backup API into dest_path.

    Label Studio runs SQLite in rollback-journal mode: a reader's lock blocks writers from
    committing. So the copy goes in small steps (1 MB, each holds the read lock for a few
    milliseconds) and releases the lock in between. A writer that wants to commit takes SQLite's
    PENDING lock, which keeps our next step out until it has committed, so writers wait at most
    one step. A commit by another connection makes SQLite restart the copy; when that keeps
    happening (busy annotators) the step grows (x8) until one step copies everything, which
    still bounds a writer's wait to one step. In WAL mode readers never block writers, so the
    whole copy is one step.
    """
    deadline = time.monotonic() + timeout
    uri = read_only_uri(db_path)
    pages = step_pages
    restarts_total = 0
    for attempt in range(busy_retries + 1):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(dest_path)
        try:
            src = sqlite3.connect(uri, uri=True, timeout=2.0)
        except sqlite3.Error as err:
            raise BackupError(f"cannot open the database {db_path}: {err}") from err
        dst = sqlite3.connect(dest_path)
        # The snapshot is a temp file (the archive is what gets fsynced): without syncs here the
        # final step, which holds the source's read lock, does not wait for the disk.
        dst.execute("PRAGMA synchronous=OFF")
        try:
            wal = src.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal"
            state = {"last": None, "restarts": 0}

            def progress(_status, remaining, _total):
                if time.monotonic() > deadline:
                    raise BackupError(f"database snapshot took longer than {timeout:.0f} s")
                if state["last"] is not None and remaining > state["last"]:
                    state["restarts"] += 1
                    if state["restarts"] > max_restarts and pages != -1:
                        raise _Restarted()
                state["last"] = remaining
                if remaining:
                    time.sleep(pause)  # a breather for the server between steps

            src.backup(dst, pages=-1 if wal else pages, progress=progress, sleep=pause)
            restarts_total += state["restarts"]
            dst.execute("PRAGMA journal_mode=DELETE")  # a single self-contained file
            dst.commit()
            return {"wal": wal, "step_pages": -1 if wal else pages,
                    "restarts": restarts_total, "attempts": attempt + 1}
        except _Restarted:
            restarts_total += state["restarts"]
            pages = -1 if pages * 8 >= 4096 else pages * 8
            log.info("database changed during the copy %d times; copying %s pages per step",
                     state["restarts"], "all" if pages == -1 else pages)
        except sqlite3.OperationalError as err:
            # "database is locked" / "busy": a writer held the lock past our busy timeout.
            if attempt == busy_retries or not re.search(r"locked|busy", str(err)):
                raise BackupError(f"database snapshot failed: {err}") from err
            log.info("database busy (%s), retrying", err)
            time.sleep(min(30.0, 0.5 * 2 ** attempt))
        finally:
            dst.close()
            src.close()
    raise BackupError("database snapshot did not finish: the database kept changing or stayed busy")


def check_sqlite(path: str) -> None:
    """PRAGMA integrity_check on a snapshot; raises BackupError unless it says 'ok'."""
    try:
        conn = sqlite3.connect(read_only_uri(path), uri=True)
        try:
            rows = [row[0] for row in conn.execute("PRAGMA integrity_check")]
        finally:
            conn.close()
    except sqlite3.DatabaseError as err:
        raise BackupError(f"the database snapshot is not a readable SQLite database: {err}") from err
    if rows != ["ok"]:
        raise BackupError("integrity_check failed on the database snapshot: " + "; ".join(rows[:5]))


def summarize(db) -> dict:
    """Per-project task and annotation counts and the newest change, through a DB-API
    connection with .execute (sqlite3, psycopg 3): the SQL is the same for both engines."""
    projects = [
        {"id": pid, "title": title, "tasks": tasks, "annotations": annotations,
         "skipped": skipped or 0}
        for pid, title, tasks, annotations, skipped in db.execute(
            """
            SELECT p.id, p.title,
                   (SELECT count(*) FROM task t WHERE t.project_id = p.id),
                   (SELECT count(*) FROM task_completion c JOIN task t ON c.task_id = t.id
                     WHERE t.project_id = p.id),
                   (SELECT sum(CASE WHEN c.was_cancelled THEN 1 ELSE 0 END) FROM task_completion c
                     JOIN task t ON c.task_id = t.id WHERE t.project_id = p.id)
              FROM project p ORDER BY p.id
            """).fetchall()
    ]
    newest = db.execute(
        "SELECT max(m) FROM (SELECT max(updated_at) AS m FROM task"
        " UNION ALL SELECT max(updated_at) FROM task_completion) AS newest").fetchone()[0]
    if isinstance(newest, str):  # SQLite keeps times as text
        newest = parse_time(newest)
    return {"projects": projects, "newest_update": iso_utc(newest) if newest else None}


def summarize_sqlite(path: str) -> dict:
    """summarize() of a SQLite file, read-only."""
    conn = sqlite3.connect(read_only_uri(path), uri=True)
    try:
        return summarize(conn)
    finally:
        conn.close()


def take_sqlite_snapshot(data_dir: str, work_dir: str) -> dict:
    """The database part of a backup: a checked snapshot file and what it contains."""
    source = os.path.join(data_dir, SQLITE_MEMBER)
    if not os.path.isfile(source):
        raise BackupError(f"no database at {source}")
    dest = os.path.join(work_dir, SQLITE_MEMBER)
    details = snapshot_sqlite(source, dest)
    check_sqlite(dest)
    return {"member": SQLITE_MEMBER, "path": dest, "details": details,
            "summary": summarize_sqlite(dest)}


# --------------------------------------------------------------------------------------------
# Database snapshot: PostgreSQL (label_studio_backup_postgresql.py, beside this script)
# --------------------------------------------------------------------------------------------

# Where pg_dump/pg_restore are (--pg-bin-dir); None = PATH.
PG_BIN_DIR = None


def postgresql():
    """The PostgreSQL helpers, imported only when needed (SQLite nodes lack psycopg/pg_dump)."""
    here = os.path.dirname(os.path.abspath(__file__))
    if here not in sys.path:  # called for every database step: add the script's dir once
        sys.path.insert(0, here)
    import label_studio_backup_postgresql as pg
    return pg


@contextlib.contextmanager
def postgresql_errors():
    pg = postgresql()
    try:
        yield pg
    except pg.PostgresError as err:
        raise BackupError(str(err)) from err


def take_postgresql_snapshot(_data_dir: str, work_dir: str) -> dict:
    with postgresql_errors() as pg:
        dest = os.path.join(work_dir, pg.DUMP_MEMBER)
        taken = pg.snapshot(dest, PG_BIN_DIR, summarize)
        pg.check(dest, PG_BIN_DIR)
    return {"member": pg.DUMP_MEMBER, "path": dest, **taken}


def check_postgresql_dump(path: str) -> None:
    with postgresql_errors() as pg:
        pg.check(path, PG_BIN_DIR)


# engine -> function(data_dir, work_dir) -> {member, path, details, summary}
SNAPSHOTTERS = {"sqlite": take_sqlite_snapshot, "postgresql": take_postgresql_snapshot}
# engine -> function(path of the extracted member) raising BackupError when it is unusable
DATABASE_CHECKS = {"sqlite": check_sqlite, "postgresql": check_postgresql_dump}


# --------------------------------------------------------------------------------------------
# Archive (engine neutral)
# --------------------------------------------------------------------------------------------

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
        "totals": {"projects": len(projects),
                   "tasks": sum(p["tasks"] for p in projects),
                   "annotations": sum(p["annotations"] for p in projects)},
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


def parse_env(text: str) -> dict:
    """NAME=value lines of an env file written with Ansible's `quote` filter. Pure."""
    values = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        name, _, raw = line.partition("=")
        try:
            parts = shlex.split(raw)
        except ValueError:
            continue
        values[name.strip()] = " ".join(parts)
    return values


# --------------------------------------------------------------------------------------------
# Retention
# --------------------------------------------------------------------------------------------

def archive_pattern(instance: str):
    return re.compile(r"^" + re.escape(instance) + r"-(\d{8}T\d{6}Z)\.tar\.gz$")


def select_expired(names, instance: str, keep: int) -> list:
    """Archives of `instance` beyond the newest `keep`, oldest first. Pure.

    Other files, other instances' archives and temp files are never selected."""
    if keep < 1:
        raise ValueError("keep must be at least 1")
    pattern = archive_pattern(instance)
    ours = sorted((m.group(1), name) for name in names for m in [pattern.match(name)] if m)
    expired = ours[:-keep] if len(ours) > keep else []
    return [name for _stamp, name in expired]


# --------------------------------------------------------------------------------------------
# Restore decisions
# --------------------------------------------------------------------------------------------

def newer_than_backup(current_newest: str | None, manifest: dict) -> bool:
    """True when the live database changed after the backup's snapshot began. Pure."""
    if not current_newest:
        return False
    return parse_time(current_newest) > parse_time(manifest["created_at"])


def counts_by_project(projects) -> dict:
    return {str(p["id"]): {"tasks": p["tasks"], "annotations": p["annotations"]} for p in projects}


# --------------------------------------------------------------------------------------------
# Commands
# --------------------------------------------------------------------------------------------

def setup_log(path: str | None, echo: bool) -> None:
    log.setLevel(logging.INFO)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%Y-%m-%dT%H:%M:%S%z")
    if path:
        os.makedirs(os.path.dirname(path) or ".", mode=0o700, exist_ok=True)
        handler = logging.FileHandler(path)
        handler.setFormatter(fmt)
        log.addHandler(handler)
        os.chmod(path, 0o600)
    if echo:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(fmt)
        log.addHandler(handler)


def _remove_stale(backup_dir: str, instance: str) -> None:
    """Leftovers of an interrupted run of this instance (the caller holds the lock)."""
    for stale in glob.glob(os.path.join(backup_dir, "." + glob.escape(instance) + "-*.partial")):
        if os.path.isdir(stale):
            shutil.rmtree(stale, ignore_errors=True)
        else:
            os.unlink(stale)


def write_backup(args, backup_dir: str, created: dt.datetime) -> tuple:
    """Snapshot, pack and verify into a temp name, then rename. Returns (path, manifest)."""
    with tempfile.TemporaryDirectory(prefix=f".{args.instance}-", suffix=".partial",
                                     dir=backup_dir) as work:
        snapshot = SNAPSHOTTERS[args.engine](args.data_dir, work)
        members = [(snapshot["member"], snapshot["path"])] + media_members(args.data_dir)
        for env_member in ENV_MEMBERS:
            env_file = os.path.join(args.state_dir, env_member)
            if os.path.isfile(env_file):
                members.append((env_member, env_file))
            else:
                log.warning("no %s in %s: the archive lacks its secrets", env_member, args.state_dir)
        version = label_studio_version(args.env_dir)
        key = read_key(args.key_file)

        def make_manifest(checksums):
            return build_manifest(
                instance=args.instance, created_at=created, finished_at=utc_now(),
                label_studio_version=version, hostname=socket.gethostname(),
                data_dir=os.path.abspath(args.data_dir), engine=args.engine,
                database_member=snapshot["member"], database_details=snapshot["details"],
                summary=snapshot["summary"], members=checksums)

        partial = os.path.join(
            backup_dir, f".{args.instance}-{created.strftime(STAMP_FORMAT)}.tar.gz.partial")
        try:
            manifest = pack_archive(partial, members, make_manifest, key)
            os.unlink(snapshot["path"])  # free the space before verifying
            verify_archive(partial, work, key=key)
            final_time = created
            while os.path.exists(os.path.join(backup_dir, archive_name(args.instance, final_time))):
                final_time += dt.timedelta(seconds=1)  # two runs within one second
            final = os.path.join(backup_dir, archive_name(args.instance, final_time))
            os.rename(partial, final)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(partial)
        fsync_dir(backup_dir)
    return final, manifest


def cmd_backup(args) -> dict:
    backup_dir = os.path.abspath(args.backup_dir)
    ensure_private_dir(backup_dir)
    started = time.monotonic()
    log.info("backup start instance=%s data_dir=%s", args.instance, args.data_dir)
    with instance_lock(os.path.join(args.state_dir, "backup.lock"), timeout=args.lock_timeout):
        _remove_stale(backup_dir, args.instance)
        final, manifest = write_backup(args, backup_dir, utc_now())
        # Only now that the new archive is verified and in place may old ones go.
        expired = select_expired(os.listdir(backup_dir), args.instance, args.keep)
        for name in expired:
            os.unlink(os.path.join(backup_dir, name))
            log.info("retention: deleted %s (keeping the newest %d)", name, args.keep)
    size = os.path.getsize(final)
    totals = manifest["totals"]
    log.info("backup ok archive=%s size=%d projects=%d tasks=%d annotations=%d "
             "snapshot_restarts=%d seconds=%.1f", final, size, totals["projects"], totals["tasks"],
             totals["annotations"], manifest["database"]["restarts"], time.monotonic() - started)
    return {"archive": final, "size": size, "created_at": manifest["created_at"],
            "totals": totals, "projects": manifest["projects"], "deleted": expired}


def _archive_summary(manifest: dict) -> dict:
    keys = ("format", "instance", "created_at", "finished_at", "label_studio_version",
            "hostname", "data_dir", "database", "projects", "totals")
    return {key: manifest.get(key) for key in keys}


def _key_args(args) -> dict:
    """How the archive-reading commands authenticate: the key file, and the explicit override."""
    return {"key": read_key(args.key_file), "allow_unsigned": getattr(args, "allow_unsigned", False)}


def cmd_verify(args) -> dict:
    work = args.work_dir or os.path.dirname(os.path.abspath(args.archive))
    manifest = verify_archive(args.archive, work, **_key_args(args))
    return _archive_summary(manifest)


def live_database(data_dir: str, engine: str = "sqlite") -> dict:
    if engine == "postgresql":
        with postgresql_errors() as pg:
            return pg.live(summarize)
    path = os.path.join(data_dir, SQLITE_MEMBER)
    if not os.path.exists(path):
        return {"exists": False, "readable": False, "newest_update": None, "projects": []}
    try:
        return {"exists": True, "readable": True, **summarize_sqlite(path)}
    except sqlite3.Error as err:
        return {"exists": True, "readable": False, "error": str(err), "newest_update": None,
                "projects": []}


def cmd_inspect(args) -> dict:
    return live_database(args.data_dir, getattr(args, "engine", "sqlite"))


def cmd_plan_restore(args) -> dict:
    manifest = verify_archive(args.archive, args.work_dir, **_key_args(args))
    engine = getattr(args, "engine", "sqlite")
    archived = manifest["database"]["engine"]
    if archived != engine:
        raise BackupError(
            f"the archive holds a {archived} database, this instance uses {engine}: restore it "
            f"into an instance deployed with label_studio_database={archived} (then migrate)")
    current = live_database(args.data_dir, engine)
    return {"archive": _archive_summary(manifest), "current": current,
            "current_is_newer": newer_than_backup(current.get("newest_update"), manifest),
            "same_counts": counts_by_project(current["projects"]) ==
            counts_by_project(manifest["projects"])}


def cmd_secrets(args) -> dict:
    values = {}
    with tempfile.TemporaryDirectory(prefix=".secrets-", dir=args.work_dir) as tmp:
        manifest, seen = read_archive(args.archive, tmp, only=lambda name: name in ENV_MEMBERS,
                                      **_key_args(args))
        problems = check_members(manifest, seen)
        if problems:
            raise BackupError(f"{args.archive} failed verification: " + "; ".join(problems))
        for env_member in ENV_MEMBERS:
            env_path = os.path.join(tmp, env_member)
            if os.path.exists(env_path):
                with open(env_path) as fh:
                    values.update({k: v for k, v in parse_env(fh.read()).items() if v})
    return {name: values.get(name, "") for name in SECRET_NAMES}


def cmd_unpack(args) -> dict:
    data_dir = os.path.abspath(args.data_dir)
    parent = os.path.dirname(data_dir)
    lock = os.path.join(args.state_dir, "backup.lock")
    authentication = _key_args(args)
    with instance_lock(lock, timeout=args.lock_timeout):
        staging = tempfile.mkdtemp(prefix="." + os.path.basename(data_dir) + ".unpack-", dir=parent)
        try:
            os.chmod(staging, 0o700)
            manifest, seen = read_archive(
                args.archive, staging, only=lambda name: name not in ENV_MEMBERS, **authentication)
            problems = check_members(manifest, seen)
            if problems:
                raise BackupError(f"{args.archive} failed verification: " + "; ".join(problems))
            DATABASE_CHECKS[manifest["database"]["engine"]](
                os.path.join(staging, *manifest["database"]["member"].split("/")))
            moved_aside = None
            if os.path.lexists(data_dir):
                if os.path.lexists(args.aside):
                    raise BackupError(f"{args.aside} already exists; not overwriting it")
                os.rename(data_dir, args.aside)
                moved_aside = args.aside
            try:
                os.rename(staging, data_dir)
            except OSError:
                if moved_aside:
                    os.rename(moved_aside, data_dir)  # leave the data dir as it was
                raise
            staging = None
            fsync_dir(parent)
        finally:
            if staging:
                shutil.rmtree(staging, ignore_errors=True)
    log.info("restore unpacked %s into %s (previous data kept at %s)", args.archive, data_dir,
             moved_aside)
    return {"data_dir": data_dir, "moved_aside": moved_aside,
            "archive": _archive_summary(manifest)}


def cmd_load_postgresql(args) -> dict:
    """After unpack: the archive's dump (now in the data dir) into a fresh database."""
    with postgresql_errors() as pg:
        dump = os.path.join(args.data_dir, pg.DUMP_MEMBER)
        if not os.path.isfile(dump):
            raise BackupError(f"no database dump at {dump}: unpack the archive first")
        with instance_lock(os.path.join(args.state_dir, "backup.lock"), timeout=args.lock_timeout):
            loaded = pg.load(dump, args.aside, PG_BIN_DIR, args.admin_user)
        os.unlink(dump)  # the archive keeps it; the data dir needs no copy
    log.info("restore loaded %s into database %s (previous database kept as %s)", dump,
             loaded["database"], loaded["moved_aside"])
    return loaded


def add_key_arguments(parser, reads_archives=True) -> None:
    parser.add_argument("--key-file", required=True,
                        help="the instance's backup key (0600): signs new archives, authenticates read ones")
    if reads_archives:
        parser.add_argument("--allow-unsigned", action="store_true",
                            help="accept an archive without a signature (made before signing)")


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    backup = sub.add_parser("backup", help="take a backup now")
    backup.add_argument("--instance", required=True)
    backup.add_argument("--data-dir", required=True)
    backup.add_argument("--state-dir", required=True, help="holds service.env and the lock")
    backup.add_argument("--backup-dir", required=True)
    backup.add_argument("--keep", type=int, required=True)
    backup.add_argument("--log", help="append the run's log here")
    backup.add_argument("--env-dir", help="Label Studio's Python env (for its version)")
    backup.add_argument("--engine", choices=sorted(SNAPSHOTTERS), default="sqlite")
    backup.add_argument("--pg-bin-dir", help="where pg_dump is (PostgreSQL)")
    backup.add_argument("--lock-timeout", type=float, default=600)
    backup.add_argument("--json", action="store_true", help="print the result as JSON")
    add_key_arguments(backup, reads_archives=False)

    verify = sub.add_parser("verify", help="verify an archive and print its manifest")
    verify.add_argument("--archive", required=True)
    verify.add_argument("--work-dir")
    verify.add_argument("--pg-bin-dir", help="where pg_restore is (PostgreSQL)")
    add_key_arguments(verify)

    inspect = sub.add_parser("inspect", help="summarize a data dir's live database")
    inspect.add_argument("--data-dir", required=True)
    inspect.add_argument("--engine", choices=sorted(SNAPSHOTTERS), default="sqlite")
    inspect.add_argument("--pg-bin-dir", help="unused by inspect; accepted like --engine")

    plan = sub.add_parser("plan-restore", help="verify an archive, compare with the live database")
    plan.add_argument("--archive", required=True)
    plan.add_argument("--data-dir", required=True)
    plan.add_argument("--work-dir", required=True)
    plan.add_argument("--engine", choices=sorted(SNAPSHOTTERS), default="sqlite")
    plan.add_argument("--pg-bin-dir", help="where pg_restore is (PostgreSQL)")
    add_key_arguments(plan)

    secrets = sub.add_parser("secrets", help="print an archive's secrets as JSON")
    secrets.add_argument("--archive", required=True)
    secrets.add_argument("--work-dir", required=True)
    add_key_arguments(secrets)

    unpack = sub.add_parser("unpack", help="restore an archive into a data dir")
    unpack.add_argument("--archive", required=True)
    unpack.add_argument("--data-dir", required=True)
    unpack.add_argument("--aside", required=True, help="where the current data dir goes")
    unpack.add_argument("--state-dir", required=True)
    unpack.add_argument("--lock-timeout", type=float, default=600)
    unpack.add_argument("--log")
    unpack.add_argument("--pg-bin-dir", help="where pg_restore is (PostgreSQL)")
    add_key_arguments(unpack)

    load = sub.add_parser("load-postgresql", help="after unpack: load the dump into a fresh database")
    load.add_argument("--data-dir", required=True)
    load.add_argument("--state-dir", required=True)
    load.add_argument("--aside", required=True, help="new name of the current database")
    load.add_argument("--pg-bin-dir", help="where pg_restore is")
    load.add_argument("--admin-user", help="superuser reached by peer auth (own cluster) that "
                      "renames and creates the database; default: the owner itself")
    load.add_argument("--lock-timeout", type=float, default=600)
    load.add_argument("--log")
    args = parser.parse_args(argv)
    if args.command == "backup" and args.keep < 1:
        parser.error("--keep must be at least 1")
    return args


COMMANDS = {"backup": cmd_backup, "verify": cmd_verify, "inspect": cmd_inspect,
            "plan-restore": cmd_plan_restore, "secrets": cmd_secrets, "unpack": cmd_unpack,
            "load-postgresql": cmd_load_postgresql}


def main(argv=None) -> int:
    os.umask(0o077)  # archives, logs and extracted data are private
    args = parse_args(argv)
    global PG_BIN_DIR
    PG_BIN_DIR = getattr(args, "pg_bin_dir", None)
    setup_log(getattr(args, "log", None), echo=args.command != "backup" or args.json)
    try:
        result = COMMANDS[args.command](args)
    except BackupError as err:
        log.error("%s FAILED: %s", args.command, err)
        return 1
    except Exception as err:  # noqa: BLE001 - cron has no one to show a traceback to
        log.exception("%s FAILED: %s: %s", args.command, type(err).__name__, err)
        return 1
    if args.command != "backup" or args.json:
        json.dump(result, sys.stdout, sort_keys=True)
        sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
