"""sqlite-to-postgresql: move a Label Studio SQLite database into an empty PostgreSQL database, losing nothing.

Run on the node, as the node account, with Label Studio's own Python (it needs psycopg 3 and
Label Studio's manage.py, both in that env; nothing else):

    <state dir>/with-service-env env PYTHONPATH=<state dir> <env>/bin/python \
        -m label_studio_node sqlite-to-postgresql --sqlite <data dir>/label_studio.sqlite3

The connection comes from the environment only (with-service-env sources the instance's 0600
env file; settings.py's rule, Label Studio's own), never from argv. One JSON object is printed on stdout (per-table counts, totals); progress
and Label Studio's migrate output go to stderr. Exit 0 = committed and verified; 1 = nothing
copied (refused or rolled back), with the reason on stderr and in the JSON ("error").

The caller must stop Label Studio first (a writer during the copy would be blocked or missed),
and, after success, start it with DJANGO_DB=default + the same POSTGRE_* and the SAME SECRET_KEY
(sessions are signed with it). The SQLite file is opened read-only and left as it is: it stays
the fallback until the PostgreSQL instance has been checked.

How, and why this way (measured on label-studio 1.23.2, PostgreSQL 15):
  * Not Django dumpdata/loaddata, although it is what Label Studio's maintainers suggest
    (HumanSignal/label-studio#7028): plain `manage.py dumpdata` fails ("no such table:
    django_rq_queue", an unmanaged model), and once that is excluded, `loaddata` into a migrated
    database fails with `duplicate key ... authtoken_token_user_id_key` because the User
    post_save signal (users/models.py init_user) creates a fresh token for every loaded user,
    the bug reported in #1658 in 2021 and still there. Working around it means excluding or
    editing models by hand, and other post_save receivers (annotation/prediction counters,
    storage sync) still run. loaddata also deserializes the whole fixture in memory.
  * Instead: Label Studio's own `manage.py migrate` builds the schema in PostgreSQL (same version
    => same tables and columns as the SQLite file; checked: same django_migrations set, same
    column names per table, else refused), then every table is copied row by row with COPY,
    streamed (constant memory), inside ONE transaction: no model code, no signals, ids kept.
  * Foreign keys: Django creates every FK as DEFERRABLE INITIALLY DEFERRED on PostgreSQL (the
    1.23.2 schema has 142, none immediate; no triggers), so they are checked at COMMIT. That works
    for a plain database owner (no superuser, no session_replication_role, no DISABLE TRIGGER);
    tables are still copied in FK dependency order, and a dangling reference aborts the commit.
  * Rows the migrations themselves write in PostgreSQL:
      - django_content_type, auth_permission: replaced by the SQLite rows (their ids are what the
        copied rows point to; the migrations may have numbered them differently);
      - django_migrations, core_asyncmigrationstatus: KEPT as PostgreSQL's own (TARGET_OWNED).
        They describe the schema that was built here: PostgreSQL runs async index migrations
        SQLite skips (14 status rows vs 8). django_migrations must list the same migrations as
        the SQLite file (checked).
  * Generated columns (project.search_vector, a tsvector PostgreSQL computes) are not copied:
    PostgreSQL refuses values for them (found on the first probe run).
  * Types: SQLite has 0/1 for booleans (converted), JSON as text (jsonb parses it), naive UTC
    datetimes (Django's SQLite convention: '+00:00' is appended, and the session time zone is
    UTC too, so nothing is shifted by the server's TimeZone), uuid as 32 hex digits (PostgreSQL
    accepts that form).
  * Sequences: set past max(id) and past SQLite's AUTOINCREMENT counter (sqlite_sequence), so a
    deleted row's id is never handed out again, as in SQLite.
  * Verification before COMMIT: every copied table's PostgreSQL row count must equal SQLite's,
    else ROLLBACK naming the table; and the study's counts per project (counts.summarize, the
    query backups and restores compare) must be the same on both sides.
"""
from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import re
import sqlite3
import subprocess
import sys
import time

from .counts import summarize
from .errors import NodeError
from .files import read_only_uri
from .settings import POSTGRE_KEYS, postgres_settings, prefixed_names

# Tables whose PostgreSQL rows come from the migrations that built this schema and are kept.
TARGET_OWNED = ("django_migrations", "core_asyncmigrationstatus")
# Any row here means the target already holds a Label Studio: refuse rather than merge.
STUDY_TABLES = ("project", "task", "task_completion", "prediction", "htx_user", "organization",
                "authtoken_token")
# Names in the summary -> Label Studio's table names (annotations live in task_completion).
TOTALS = {"projects": "project", "tasks": "task", "annotations": "task_completion",
          "predictions": "prediction", "users": "htx_user", "tokens": "authtoken_token",
          "organizations": "organization", "memberships": "organizations_organizationmember"}
FETCH_ROWS = 5000
_OFFSET = re.compile(r"(Z|[+-]\d{2}(:?\d{2})?)$")


# A refusal or failure, with a message for the person reading the playbook output.
MigrationError = NodeError


# --------------------------------------------------------------------------------------------
# Pure helpers (no database): imported by the unit tests
# --------------------------------------------------------------------------------------------

def migrate_environment(environ, settings: dict) -> dict:
    """The environment for Label Studio's migrate: exactly the database we connect to. Prefixed
    variants are dropped, since they would win over the plain names inside Label Studio."""
    shadowing = prefixed_names(["DJANGO_DB"] + [f"POSTGRE_{key}" for key in POSTGRE_KEYS])
    env = {key: value for key, value in environ.items() if key not in shadowing}
    env["DJANGO_DB"] = "default"
    env.update({f"POSTGRE_{key}": str(value) for key, value in settings.items()})
    return env


def to_bool(value):
    """SQLite keeps booleans as 0/1."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("0", "1", "t", "f", "true", "false"):
        return value.strip().lower() in ("1", "t", "true")
    raise ValueError(f"not a boolean: {value!r}")


def to_utc_timestamp(value):
    """Django stores aware datetimes in SQLite as naive UTC text: say so explicitly, so that
    PostgreSQL does not read them in the session's time zone."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    text = str(value).strip()
    # Only look after the date: 'YYYY-MM-DD' itself ends like a '-DD' offset.
    if _OFFSET.search(text[10:]):
        return text
    return text + "+00:00"


def to_json_text(value):
    """jsonb parses the JSON text SQLite holds; anything else (never seen) is serialized."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value)


def _same(value):
    return value


CONVERTERS = {"boolean": to_bool, "timestamp with time zone": to_utc_timestamp,
              "json": to_json_text, "jsonb": to_json_text}


def row_converter(pg_types):
    """A function turning one SQLite row into the values COPY sends, given the target columns'
    PostgreSQL types (information_schema data_type) in the same order."""
    funcs = [CONVERTERS.get(pg_type, _same) for pg_type in pg_types]
    return lambda row: [func(value) for func, value in zip(funcs, row)]


def insert_order(tables, references) -> list:
    """Tables ordered so that referenced tables come first (references: {table: {tables it points
    to}}). Cycles (htx_user <-> organization) are broken alphabetically: the FKs are deferred to
    COMMIT anyway, so the order only has to be deterministic, not perfect."""
    remaining = set(tables)
    deps = {t: {r for r in references.get(t, ()) if r in remaining and r != t} for t in tables}
    ordered = []
    while remaining:
        ready = sorted(t for t in remaining if not deps[t] & remaining)
        pick = ready[:1] or [min(remaining, key=lambda t: (len(deps[t] & remaining), t))]
        ordered += pick
        remaining -= set(pick)
    return ordered


def schema_problems(sqlite_columns: dict, pg_columns: dict) -> list:
    """Why the SQLite file cannot be copied into this schema ({table: [columns]} each); empty if it
    can. Column order may differ (ALTERs on SQLite rebuild tables), names may not."""
    problems = []
    for table in sorted(sqlite_columns):
        if table not in pg_columns:
            problems.append(f"table {table} is not in the PostgreSQL schema")
            continue
        only_sqlite = sorted(set(sqlite_columns[table]) - set(pg_columns[table]))
        only_pg = sorted(set(pg_columns[table]) - set(sqlite_columns[table]))
        if only_sqlite or only_pg:
            problems.append(f"table {table}: columns only in SQLite {only_sqlite}, "
                            f"only in PostgreSQL {only_pg}")
    return problems


def migration_problems(sqlite_applied, pg_applied) -> list:
    """Migrations applied on one side only ((app, name) pairs): different Label Studio versions."""
    problems = []
    for side, extra in (("SQLite", set(sqlite_applied) - set(pg_applied)),
                        ("PostgreSQL", set(pg_applied) - set(sqlite_applied))):
        if extra:
            names = ", ".join(f"{app}.{name}" for app, name in sorted(extra)[:5])
            problems.append(f"{len(extra)} migration(s) applied only in {side}: {names}"
                            + (" ..." if len(extra) > 5 else ""))
    return problems


def count_mismatches(expected: dict, actual: dict) -> list:
    """(table, expected, actual) for every table whose counts differ, sorted by table."""
    return [(t, expected.get(t), actual.get(t)) for t in sorted(set(expected) | set(actual))
            if expected.get(t) != actual.get(t)]


def study_difference(before: list, after: list) -> str:
    """'' when both sides hold the same projects with the same task and annotation counts
    (counts.summarize's projects), else the first differences. Pure."""
    old = {p["id"]: p for p in before}
    new = {p["id"]: p for p in after}
    lines = [f"project {pid}: SQLite {old.get(pid)}, PostgreSQL {new.get(pid)}"
             for pid in sorted(set(old) | set(new)) if old.get(pid) != new.get(pid)]
    return "; ".join(lines[:5]) + (" ..." if len(lines) > 5 else "")


def occupied(counts: dict) -> dict:
    """The study tables that already hold rows ({table: count})."""
    return {t: counts[t] for t in STUDY_TABLES if counts.get(t)}


def next_id(max_id, sqlite_sequence) -> int:
    """The next id a sequence must hand out: past every row, and past ids SQLite's AUTOINCREMENT
    already used for rows deleted since."""
    return max(max_id or 0, sqlite_sequence or 0) + 1


def totals(counts: dict) -> dict:
    return {name: counts.get(table, 0) for name, table in TOTALS.items()}


def copied_tables(sqlite_tables) -> list:
    """The SQLite tables whose rows are copied: not SQLite's own, not TARGET_OWNED."""
    return sorted(t for t in sqlite_tables if not t.startswith("sqlite_") and t not in TARGET_OWNED)


def copy_columns(sqlite_cols, generated) -> list:
    """The columns to copy: PostgreSQL refuses values for its generated columns and computes
    them itself (project.search_vector: a GENERATED tsvector there, a plain NULL text in SQLite)."""
    return [c for c in sqlite_cols if c not in generated]


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# --------------------------------------------------------------------------------------------
# SQLite side (read-only)
# --------------------------------------------------------------------------------------------

def open_sqlite(path: str) -> sqlite3.Connection:
    if not os.path.isfile(path):
        raise MigrationError(f"no SQLite database at {path}")
    conn = sqlite3.connect(read_only_uri(path), uri=True, isolation_level=None)
    # One read transaction for everything: the counts and the rows come from one snapshot.
    conn.execute("BEGIN")
    return conn


def sqlite_tables(conn) -> list:
    return [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]


def sqlite_columns(conn, table: str) -> list:
    return [r[1] for r in conn.execute(f"PRAGMA table_info({quote_ident(table)})")]


def sqlite_count(conn, table: str) -> int:
    return conn.execute(f"SELECT count(*) FROM {quote_ident(table)}").fetchone()[0]


def sqlite_sequences(conn) -> dict:
    if "sqlite_sequence" not in sqlite_tables(conn):
        return {}
    return dict(conn.execute("SELECT name, seq FROM sqlite_sequence"))


# --------------------------------------------------------------------------------------------
# PostgreSQL side
# --------------------------------------------------------------------------------------------

def psycopg3():
    """The driver (only here: the pure helpers must import without it). The copy streams rows
    with psycopg 3's COPY API, which Label Studio ships since 1.13."""
    from .postgresql import driver

    if driver.__name__ != "psycopg":
        raise MigrationError("the copy needs psycopg 3 (Label Studio 1.13 or later); this Label "
                             f"Studio's Python has {driver.__name__}")
    return driver


def pg_connect(settings: dict):
    psycopg = psycopg3()
    try:
        return psycopg.connect(host=settings["HOST"], port=int(settings["PORT"]),
                               dbname=settings["NAME"], user=settings["USER"],
                               password=settings["PASSWORD"], connect_timeout=30)
    except psycopg.Error as exc:
        raise MigrationError(f"cannot connect to PostgreSQL database {settings['NAME']} on "
                             f"{settings['HOST']}:{settings['PORT']}: {exc}".strip()) from exc


def pg_tables(conn) -> list:
    return [r[0] for r in conn.execute(
        "SELECT table_name FROM information_schema.tables"
        " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'")]


def pg_column_types(conn, table: str) -> dict:
    return dict(conn.execute(
        "SELECT column_name, data_type FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND table_name = %s ORDER BY ordinal_position",
        (table,)).fetchall())


def pg_generated_columns(conn) -> dict:
    """{table: {columns}} PostgreSQL computes itself (project.search_vector, a tsvector)."""
    out = {}
    for table, column in conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND is_generated = 'ALWAYS'"):
        out.setdefault(table, set()).add(column)
    return out


def pg_count(conn, table: str) -> int:
    return conn.execute(f"SELECT count(*) FROM {quote_ident(table)}").fetchone()[0]


def pg_study_counts(conn) -> dict:
    present = set(pg_tables(conn))
    return {t: pg_count(conn, t) for t in STUDY_TABLES if t in present}


def pg_references(conn) -> dict:
    refs = {}
    for table, target in conn.execute(
            "SELECT conrelid::regclass::text, confrelid::regclass::text FROM pg_constraint"
            " WHERE contype = 'f' AND connamespace = current_schema()::regnamespace"):
        refs.setdefault(table.strip('"'), set()).add(target.strip('"'))
    return refs


def pg_identity_columns(conn) -> list:
    """(table, column, sequence) for every column fed by a sequence (identity or serial)."""
    rows = conn.execute(
        "SELECT table_name, column_name FROM information_schema.columns"
        " WHERE table_schema = current_schema()"
        " AND (is_identity = 'YES' OR column_default LIKE 'nextval(%')").fetchall()
    out = []
    for table, column in rows:
        seq = conn.execute("SELECT pg_get_serial_sequence(%s, %s)",
                           (quote_ident(table), column)).fetchone()[0]
        if seq:
            out.append((table, column, seq))
    return sorted(out)


def run_migrations(manage_py: str, python: str, env: dict) -> None:
    """Label Studio's own migrate builds (or completes) the schema; its output goes to stderr so
    stdout stays one JSON object."""
    proc = subprocess.run([python, manage_py, "migrate", "--no-input", "--no-color"],
                          env=env, cwd=os.path.dirname(manage_py), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    sys.stderr.write(proc.stdout)
    if proc.returncode != 0:
        tail = proc.stdout.strip().splitlines()[-1:] or ["(no output)"]
        raise MigrationError(f"Label Studio's migrate failed (exit {proc.returncode}): {tail[0]}")


def find_manage_py() -> str:
    spec = importlib.util.find_spec("label_studio")
    if spec is None or not spec.submodule_search_locations:
        raise MigrationError("label_studio is not importable: run this with Label Studio's "
                             "own Python (<env>/bin/python)")
    return os.path.join(list(spec.submodule_search_locations)[0], "manage.py")


def copy_table(sq, pg, table: str, columns: list, pg_types: dict) -> None:
    convert = row_converter([pg_types[c] for c in columns])
    names = ", ".join(quote_ident(c) for c in columns)
    rows = sq.execute(f"SELECT {names} FROM {quote_ident(table)}")
    with pg.cursor() as cur:
        # Rows the migrations wrote (content types, permissions) give way to the SQLite ones.
        cur.execute(f"DELETE FROM {quote_ident(table)}")
        with cur.copy(f"COPY {quote_ident(table)} ({names}) FROM STDIN") as copy:
            while True:
                batch = rows.fetchmany(FETCH_ROWS)
                if not batch:
                    break
                for row in batch:
                    copy.write_row(convert(row))


def reset_sequences(pg, identity_columns, sqlite_seq: dict) -> None:
    for table, column, seq in identity_columns:
        max_id = pg.execute(
            f"SELECT max({quote_ident(column)}) FROM {quote_ident(table)}").fetchone()[0]
        pg.execute("SELECT setval(%s, %s, false)", (seq, next_id(max_id, sqlite_seq.get(table))))


# --------------------------------------------------------------------------------------------
# The move
# --------------------------------------------------------------------------------------------

def log(message: str) -> None:
    print(f"[sqlite-to-postgresql] {message}", file=sys.stderr, flush=True)


def migrate(sqlite_path: str, environ, python: str, manage_py: str | None = None) -> dict:
    started = time.monotonic()
    settings = postgres_settings(environ)
    sq = open_sqlite(sqlite_path)
    tables = sqlite_tables(sq)
    if "project" not in tables or "django_migrations" not in tables:
        raise MigrationError(f"{sqlite_path} is not a Label Studio database")

    # Refuse before writing anything, even the schema.
    with pg_connect(settings) as pg:
        busy = occupied(pg_study_counts(pg))
    if busy:
        raise MigrationError("the PostgreSQL database already holds Label Studio data ("
                             + ", ".join(f"{t}: {n} rows" for t, n in busy.items())
                             + "); refusing to merge into it")

    log("building the schema with Label Studio's migrations")
    run_migrations(manage_py or find_manage_py(), python, migrate_environment(environ, settings))

    psycopg = psycopg3()
    pg = pg_connect(settings)
    try:
        problems = migration_problems(
            sq.execute("SELECT app, name FROM django_migrations").fetchall(),
            pg.execute("SELECT app, name FROM django_migrations").fetchall())
        copy = copied_tables(tables)
        pg_types = {t: pg_column_types(pg, t) for t in pg_tables(pg)}
        problems += schema_problems({t: sqlite_columns(sq, t) for t in copy}, pg_types)
        if problems:
            raise MigrationError("the SQLite database does not match this Label Studio version's "
                                 "schema (start this Label Studio version on it once, so it "
                                 "migrates, then retry): " + "; ".join(problems))
        pg.commit()  # ends the read-only checks' transaction

        # Everything below is one transaction: committed whole or not at all.
        pg.execute("SET LOCAL TIME ZONE 'UTC'")
        pg.execute("SET CONSTRAINTS ALL DEFERRED")
        busy = occupied(pg_study_counts(pg))  # someone may have started Label Studio meanwhile
        if busy:
            raise MigrationError(f"the PostgreSQL database got Label Studio data meanwhile: {busy}")
        expected = {t: sqlite_count(sq, t) for t in copy}
        generated = pg_generated_columns(pg)
        for table in insert_order(copy, pg_references(pg)):
            columns = copy_columns(sqlite_columns(sq, table), generated.get(table, ()))
            try:
                copy_table(sq, pg, table, columns, pg_types[table])
            except (ValueError, psycopg.Error) as exc:
                raise MigrationError(f"copying table {table} failed, rolled back: {exc}") from exc
        actual = {t: pg_count(pg, t) for t in copy}
        wrong = count_mismatches(expected, actual)
        if wrong:
            raise MigrationError("row counts differ after the copy, rolled back: " + "; ".join(
                f"{t}: SQLite {e}, PostgreSQL {a}" for t, e, a in wrong))
        study = study_difference(summarize(sq)["projects"], summarize(pg)["projects"])
        if study:
            raise MigrationError("the study's counts differ after the copy, rolled back: " + study)
        reset_sequences(pg, pg_identity_columns(pg), sqlite_sequences(sq))
        kept = {t: pg_count(pg, t) for t in TARGET_OWNED if t in pg_types}
        try:
            pg.commit()  # deferred foreign keys are checked here
        except Exception as exc:
            raise MigrationError(f"PostgreSQL refused the commit, rolled back: {exc}") from exc
        pg.autocommit = True
        pg.execute("ANALYZE")  # fresh planner statistics for the bulk-loaded tables
    except BaseException:
        if not pg.closed:
            pg.rollback()
        raise
    finally:
        pg.close()
        sq.close()

    return {"status": "migrated", "sqlite": os.path.abspath(sqlite_path),
            "postgresql": {"name": settings["NAME"], "host": settings["HOST"],
                           "port": int(settings["PORT"])},
            "seconds": round(time.monotonic() - started, 1),
            "totals": totals(actual), "tables": actual, "kept_from_migrations": kept}


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="label_studio_node sqlite-to-postgresql",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--sqlite", required=True, help="Label Studio's label_studio.sqlite3")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        result = migrate(args.sqlite, os.environ, sys.executable)
    except MigrationError as exc:
        log(f"ERROR: {exc}")
        print(json.dumps({"status": "failed", "error": str(exc)}))
        return 1
    print(json.dumps(result, sort_keys=True))
    return 0

