"""The database part of a backup: a consistent snapshot file of the live database and its
check, per engine. SQLite here; PostgreSQL in pgdump (imported only when used: SQLite nodes lack
psycopg and pg_dump)."""
from __future__ import annotations

import contextlib
import logging
import os
import re
import sqlite3
import time

from .counts import summarize
from .errors import NodeError as BackupError
from .files import read_only_uri

SQLITE_MEMBER = "label_studio.sqlite3"
# Where pg_dump/pg_restore are (--pg-bin-dir); None = PATH.
PG_BIN_DIR = None

log = logging.getLogger("label-studio-backup")


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


def postgresql():
    """The PostgreSQL part, imported only when needed."""
    from . import pgdump
    return pgdump


def take_postgresql_snapshot(_data_dir: str, work_dir: str) -> dict:
    pg = postgresql()
    dest = os.path.join(work_dir, pg.DUMP_MEMBER)
    taken = pg.snapshot(dest, PG_BIN_DIR, summarize)
    pg.check(dest, PG_BIN_DIR)
    return {"member": pg.DUMP_MEMBER, "path": dest, **taken}


def check_postgresql_dump(path: str) -> None:
    postgresql().check(path, PG_BIN_DIR)


# engine -> function(data_dir, work_dir) -> {member, path, details, summary}
SNAPSHOTTERS = {"sqlite": take_sqlite_snapshot, "postgresql": take_postgresql_snapshot}
# engine -> function(path of the extracted member) raising BackupError when it is unusable
DATABASE_CHECKS = {"sqlite": check_sqlite, "postgresql": check_postgresql_dump}

