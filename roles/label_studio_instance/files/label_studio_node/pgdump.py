"""The PostgreSQL part of the backup and restore (imported only when the instance's database is
PostgreSQL, so SQLite nodes need neither psycopg nor pg_dump).

The connection comes from Label Studio's POSTGRE_* variables in the environment (settings.py's
rule; cron runs the command through with-service-env), and reaches pg_dump/pg_restore as PG*
environment variables: the password is never in an argv.

  snapshot  pg_dump --format=custom inside a REPEATABLE READ transaction's exported snapshot,
            so the per-project counts in the manifest are exactly those of the dump
  check     pg_restore --list must read the whole table of contents and find the study's tables
  load      restore a dump into a fresh, empty database; the current one is renamed aside
"""
from __future__ import annotations

import os
import subprocess

from .errors import NodeError
from .postgresql import connection_settings, driver, where

DUMP_MEMBER = "label_studio.pgdump"
# Tables a Label Studio dump must hold data for, or it is not a study's database.
REQUIRED_TABLES = ("project", "task", "task_completion", "htx_user")


def tool_env(conn: dict, dbname: str | None = None) -> dict:
    """The environment pg_dump/pg_restore read the connection from. Pure."""
    return {**os.environ, "PGHOST": conn["host"], "PGPORT": str(conn["port"]),
            "PGUSER": conn["user"], "PGPASSWORD": conn["password"],
            "PGDATABASE": dbname or conn["dbname"]}


def connect(conn: dict, dbname: str | None = None, autocommit: bool = False):
    try:
        db = driver.connect(**{**conn, "dbname": dbname or conn["dbname"]}, connect_timeout=10)
    except driver.OperationalError as err:
        raise NodeError(f"cannot connect to {where(conn, dbname)}: {str(err).strip()}") from err
    db.autocommit = autocommit
    return db


def tool(bin_dir: str | None, name: str) -> str:
    return os.path.join(bin_dir, name) if bin_dir else name


def snapshot(dest: str, bin_dir: str | None, summarize) -> dict:
    """Dump the database into dest; summarize(connection) runs inside the dump's snapshot."""
    conn = connection_settings()
    db = connect(conn)
    try:
        db.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        snapshot_id = db.execute("SELECT pg_export_snapshot()").fetchone()[0]
        summary = summarize(db)
        # While this transaction stays open, pg_dump sees exactly what the summary counted.
        run([tool(bin_dir, "pg_dump"), "--format=custom", "--compress=6", "--no-password",
             f"--snapshot={snapshot_id}", f"--file={dest}"], tool_env(conn), "pg_dump")
        db.rollback()
    finally:
        db.close()
    return {"details": {"server": f"{conn['host']}:{conn['port']}", "name": conn["dbname"],
                        "restarts": 0}, "summary": summary}


def check(path: str, bin_dir: str | None) -> None:
    """pg_restore --list reads the whole table of contents; the study's tables must be in it."""
    listing = run([tool(bin_dir, "pg_restore"), "--list", path], None, "pg_restore --list")
    missing = missing_tables(listing)
    if missing:
        raise NodeError("the database dump holds no data for " + ", ".join(missing))


def missing_tables(listing: str) -> list:
    """Required tables without a TABLE DATA entry in a pg_restore --list. Pure."""
    present = set()
    for line in listing.splitlines():
        parts = line.split()
        # "<id>; <oid> <oid> TABLE DATA public task owner"
        if "TABLE" in parts and "DATA" in parts:
            at = parts.index("DATA")
            if len(parts) > at + 2:
                present.add(parts[at + 2])
    return [table for table in REQUIRED_TABLES if table not in present]


def live(summarize) -> dict:
    """Summary of the live database (for inspect and plan-restore)."""
    conn = connection_settings()
    db = connect(conn)
    try:
        exists = db.execute("SELECT to_regclass('public.project') IS NOT NULL").fetchone()[0]
        if not exists:
            return {"exists": False, "readable": False, "newest_update": None, "projects": []}
        return {"exists": True, "readable": True, **summarize(db)}
    finally:
        db.close()


def administrator(conn: dict, admin_user: str | None) -> dict:
    """Who renames and creates databases for a restore. Pure. An own cluster: its superuser, by
    peer authentication on the same private socket (no password), so that Label Studio's role
    needs no CREATEDB. An external server: the owner itself (its administrator grants CREATEDB)."""
    if not admin_user:
        return conn
    return {**{key: value for key, value in conn.items() if key != "password"}, "user": admin_user}


def load(dump: str, aside: str, bin_dir: str | None, admin_user: str | None = None) -> dict:
    """Restore dump into a fresh database under the configured name, owned by the configured
    role; the current database is renamed to `aside` first and renamed back if anything fails.
    pg_restore itself runs as that role, never as a superuser: the dump's SQL can do no more
    than Label Studio can. Label Studio must be stopped."""
    conn = connection_settings()
    name = conn["dbname"]
    admin = connect(administrator(conn, admin_user), dbname="postgres", autocommit=True)
    try:
        busy = admin.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s",
                             (name,)).fetchone()[0]
        if busy:
            raise NodeError(f"database {name} has {busy} open connection(s): stop Label Studio first")
        if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (aside,)).fetchone():
            raise NodeError(f"a database named {aside} already exists; not overwriting it")
        admin.execute(f'ALTER DATABASE "{name}" RENAME TO "{aside}"')
        try:
            admin.execute(f'CREATE DATABASE "{name}" OWNER "{conn["user"]}"')
            run([tool(bin_dir, "pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error",
                 "--single-transaction", "--no-password", f"--dbname={name}", dump],
                tool_env(conn, name), "pg_restore")
        except Exception:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
            admin.execute(f'ALTER DATABASE "{aside}" RENAME TO "{name}"')
            raise
    except driver.Error as err:
        raise NodeError(f"restoring into database {name}: {str(err).strip()}") from err
    finally:
        admin.close()
    return {"database": name, "moved_aside": aside}


def run(argv: list, env: dict | None, what: str) -> str:
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise NodeError(f"{what} failed (exit {done.returncode}): {done.stderr.strip()[-2000:]}")
    return done.stdout
