"""The backup and verify commands: a consistent, verified, dated archive of one instance, and
retention. Run by cron (or the scheduler) as the node account, and by backup.yml.

Taking the database snapshot is engine specific (snapshot.SNAPSHOTTERS); packing, verifying and
retention are not (archive.py).
"""
from __future__ import annotations

import contextlib
import datetime as dt
import glob
import logging
import os
import re
import shutil
import socket
import tempfile
import time

from .archive import (ENV_MEMBERS, STAMP_FORMAT, archive_name, archive_summary, build_manifest,
                      key_args, media_members, pack_archive, read_key, verify_archive)
from .atomic_files import fsync_directory
from .files import ensure_private_dir
from .locking import instance_lock, lock_path
from .snapshot import SNAPSHOTTERS
from .times import utc_now

log = logging.getLogger("label-studio-backup")


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
        fsync_directory(backup_dir)
    return final, manifest


def cmd_backup(args) -> dict:
    backup_dir = os.path.abspath(args.backup_dir)
    ensure_private_dir(backup_dir)
    started = time.monotonic()
    log.info("backup start instance=%s data_dir=%s", args.instance, args.data_dir)
    with instance_lock(lock_path(args.state_dir), timeout=args.lock_timeout):
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


def cmd_verify(args) -> dict:
    work = args.work_dir or os.path.dirname(os.path.abspath(args.archive))
    manifest = verify_archive(args.archive, work, **key_args(args))
    return archive_summary(manifest)
