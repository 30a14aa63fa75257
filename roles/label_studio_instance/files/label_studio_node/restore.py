"""The restore's node-side steps (restore.yml runs them in this order) and inspect:

  inspect          summarize the live database read-only (counts, newest update)
  plan-restore     verify an archive and compare it with the live database of a data dir
  secrets          print the archive's secrets (for the restore playbook, which hides them)
  unpack           verify again while extracting, then swap the data dir (old one kept aside)
  load-postgresql  after unpack: the dump into a fresh database (the current one renamed aside)
"""
from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import tempfile

from . import snapshot
from .archive import ENV_MEMBERS, archive_summary, check_members, key_args, read_archive, verify_archive
from .atomic_files import fsync_directory
from .counts import counts_by_project, summarize
from .env_file import parse_env_file
from .errors import NodeError as BackupError
from .locking import instance_lock, lock_path
from .times import parse_time

# Secrets the restore carries over to the controller's credentials dir.
SECRET_NAMES = ("SECRET_KEY", "LABEL_STUDIO_USER_TOKEN", "LABEL_STUDIO_PASSWORD")

log = logging.getLogger("label-studio-backup")


def newer_than_backup(current_newest: str | None, manifest: dict) -> bool:
    """True when the live database changed after the backup's snapshot began. Pure."""
    if not current_newest:
        return False
    return parse_time(current_newest) > parse_time(manifest["created_at"])


def live_database(data_dir: str, engine: str = "sqlite") -> dict:
    if engine == "postgresql":
        return snapshot.postgresql().live(summarize)
    path = os.path.join(data_dir, snapshot.SQLITE_MEMBER)
    if not os.path.exists(path):
        return {"exists": False, "readable": False, "newest_update": None, "projects": []}
    try:
        return {"exists": True, "readable": True, **snapshot.summarize_sqlite(path)}
    except sqlite3.Error as err:
        return {"exists": True, "readable": False, "error": str(err), "newest_update": None,
                "projects": []}


def cmd_inspect(args) -> dict:
    return live_database(args.data_dir, getattr(args, "engine", "sqlite"))


def cmd_plan_restore(args) -> dict:
    manifest = verify_archive(args.archive, args.work_dir, **key_args(args))
    engine = getattr(args, "engine", "sqlite")
    archived = manifest["database"]["engine"]
    if archived != engine:
        raise BackupError(
            f"the archive holds a {archived} database, this instance uses {engine}: restore it "
            f"into an instance deployed with label_studio_database={archived} (then migrate)")
    current = live_database(args.data_dir, engine)
    return {"archive": archive_summary(manifest), "current": current,
            "current_is_newer": newer_than_backup(current.get("newest_update"), manifest),
            "same_counts": counts_by_project(current["projects"]) ==
            counts_by_project(manifest["projects"])}


def cmd_secrets(args) -> dict:
    values = {}
    with tempfile.TemporaryDirectory(prefix=".secrets-", dir=args.work_dir) as tmp:
        manifest, seen = read_archive(args.archive, tmp, only=lambda name: name in ENV_MEMBERS,
                                      **key_args(args))
        problems = check_members(manifest, seen)
        if problems:
            raise BackupError(f"{args.archive} failed verification: " + "; ".join(problems))
        for env_member in ENV_MEMBERS:
            env_path = os.path.join(tmp, env_member)
            if os.path.exists(env_path):
                with open(env_path) as fh:
                    try:
                        parsed = parse_env_file(fh.read(), source=f"{args.archive}: {env_member}")
                    except ValueError as err:
                        raise BackupError(str(err)) from err
                values.update({k: v for k, v in parsed.items() if v})
    return {name: values.get(name, "") for name in SECRET_NAMES}


def cmd_unpack(args) -> dict:
    data_dir = os.path.abspath(args.data_dir)
    parent = os.path.dirname(data_dir)
    lock = lock_path(args.state_dir)
    authentication = key_args(args)
    with instance_lock(lock, timeout=args.lock_timeout):
        staging = tempfile.mkdtemp(prefix="." + os.path.basename(data_dir) + ".unpack-", dir=parent)
        try:
            os.chmod(staging, 0o700)
            manifest, seen = read_archive(
                args.archive, staging, only=lambda name: name not in ENV_MEMBERS, **authentication)
            problems = check_members(manifest, seen)
            if problems:
                raise BackupError(f"{args.archive} failed verification: " + "; ".join(problems))
            snapshot.DATABASE_CHECKS[manifest["database"]["engine"]](
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
            fsync_directory(parent)
        finally:
            if staging:
                shutil.rmtree(staging, ignore_errors=True)
    log.info("restore unpacked %s into %s (previous data kept at %s)", args.archive, data_dir,
             moved_aside)
    return {"data_dir": data_dir, "moved_aside": moved_aside,
            "archive": archive_summary(manifest)}


def cmd_load_postgresql(args) -> dict:
    """After unpack: the archive's dump (now in the data dir) into a fresh database."""
    pg = snapshot.postgresql()
    dump = os.path.join(args.data_dir, pg.DUMP_MEMBER)
    if not os.path.isfile(dump):
        raise BackupError(f"no database dump at {dump}: unpack the archive first")
    with instance_lock(lock_path(args.state_dir), timeout=args.lock_timeout):
        loaded = pg.load(dump, args.aside, snapshot.PG_BIN_DIR, args.admin_user)
    os.unlink(dump)  # the archive keeps it; the data dir needs no copy
    log.info("restore loaded %s into database %s (previous database kept as %s)", dump,
             loaded["database"], loaded["moved_aside"])
    return loaded
