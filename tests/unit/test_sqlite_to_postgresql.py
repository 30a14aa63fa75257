"""The SQLite -> PostgreSQL mover's pure parts: settings from the environment, value conversion,
table order, schema and count comparison, and its refusals that happen before any database."""
import datetime as dt
import importlib
import json
import sqlite3
import sys

import pytest

from support import node_package  # noqa: F401  (puts label_studio_node on sys.path)
from label_studio_node import sqlite_to_postgresql as mover  # noqa: E402


def load():
    return importlib.reload(mover)


PG_ENV = {"POSTGRE_NAME": "ls", "POSTGRE_USER": "owner", "POSTGRE_PASSWORD": "pw"}


def test_imports_without_psycopg(monkeypatch):
    # The unit tests (and the pure helpers) must not need a database driver.
    monkeypatch.setitem(sys.modules, "psycopg", None)
    assert load().next_id(1, None) == 2


# --- settings ---------------------------------------------------------------------------------

def test_settings_take_label_studios_defaults_for_host_and_port():
    assert mover.postgres_settings(PG_ENV) == {"NAME": "ls", "USER": "owner", "PASSWORD": "pw",
                                               "HOST": "localhost", "PORT": "5432"}


def test_settings_prefer_the_prefixed_names_as_label_studio_does():
    env = dict(PG_ENV, LABEL_STUDIO_POSTGRE_NAME="prefixed", HEARTEX_POSTGRE_NAME="heartex")
    assert mover.postgres_settings(env)["NAME"] == "prefixed"
    del env["LABEL_STUDIO_POSTGRE_NAME"]
    assert mover.postgres_settings(env)["NAME"] == "heartex"


def test_missing_name_user_or_password_is_refused_naming_them():
    with pytest.raises(mover.MigrationError, match="POSTGRE_NAME, POSTGRE_PASSWORD"):
        mover.postgres_settings({"POSTGRE_USER": "owner"})


def test_a_bad_port_is_refused():
    with pytest.raises(mover.MigrationError, match="not a port"):
        mover.postgres_settings(dict(PG_ENV, POSTGRE_PORT="54x"))


def test_migrate_environment_aims_label_studio_at_exactly_our_database():
    # Both prefixes, on several settings: any variant left behind would win over the plain name
    # inside Label Studio and send its migrate to another database than the one copied into.
    environ = dict(PG_ENV, LABEL_STUDIO_POSTGRE_NAME="other", LABEL_STUDIO_DJANGO_DB="sqlite",
                   HEARTEX_POSTGRE_HOST="elsewhere", HEARTEX_DJANGO_DB="sqlite",
                   LABEL_STUDIO_POSTGRE_PORT="5433", POSTGRE_HOST="db.internal",
                   DJANGO_DB="sqlite", SECRET_KEY="k", LABEL_STUDIO_BASE_DATA_DIR="/d")
    settings = mover.postgres_settings(environ)
    env = mover.migrate_environment(environ, settings)
    assert env["DJANGO_DB"] == "default"
    assert not [name for name in env if name.startswith(("LABEL_STUDIO_POSTGRE_", "HEARTEX_POSTGRE_",
                                                          "LABEL_STUDIO_DJANGO_DB", "HEARTEX_DJANGO_DB"))]
    assert settings == {"NAME": "other", "USER": "owner", "PASSWORD": "pw", "HOST": "elsewhere",
                        "PORT": "5433"}
    assert {key: env["POSTGRE_" + key] for key in settings} == settings
    assert env["SECRET_KEY"] == "k" and env["LABEL_STUDIO_BASE_DATA_DIR"] == "/d"


# --- value conversion -------------------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [(0, False), (1, True), (True, True), (False, False),
                                           (None, None), ("1", True), ("0", False),
                                           ("true", True), ("F", False)])
def test_booleans(raw, expected):
    assert mover.to_bool(raw) is expected


@pytest.mark.parametrize("raw", [2, -1, "yes", "", 0.5])
def test_anything_else_is_not_a_boolean(raw):
    with pytest.raises(ValueError):
        mover.to_bool(raw)


@pytest.mark.parametrize("raw, expected", [
    ("2026-11-27 20:45:32.894530", "2026-11-27 20:45:32.894530+00:00"),  # Django on SQLite
    ("2026-11-27 20:45:32", "2026-11-27 20:45:32+00:00"),
    ("2026-11-27T20:45:32Z", "2026-11-27T20:45:32Z"),
    ("2026-11-27 20:45:32+02:00", "2026-11-27 20:45:32+02:00"),
    ("2026-11-27 20:45:32-0530", "2026-11-27 20:45:32-0530"),
    ("2026-11-27", "2026-11-27+00:00"),  # '-27' is a day, not an offset
    (None, None),
])
def test_timestamps_are_read_as_utc(raw, expected):
    assert mover.to_utc_timestamp(raw) == expected


def test_datetime_objects_become_aware():
    naive = dt.datetime(2026, 1, 2, 3, 4, 5)
    assert mover.to_utc_timestamp(naive).tzinfo == dt.timezone.utc
    aware = dt.datetime(2026, 1, 2, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert mover.to_utc_timestamp(aware) is aware


def test_json_text_passes_and_other_values_are_serialized():
    assert mover.to_json_text('{"a": [1, "é"]}') == '{"a": [1, "é"]}'
    assert mover.to_json_text("null") == "null"  # JSON null stays distinct from SQL NULL
    assert mover.to_json_text(None) is None
    assert json.loads(mover.to_json_text(3)) == 3


def test_row_converter_follows_the_postgresql_column_types():
    convert = mover.row_converter(["integer", "boolean", "jsonb", "timestamp with time zone",
                                   "text", "uuid", "date"])
    row = (7, 1, '{"x": 1}', "2026-01-01 00:00:00", "0", "0" * 32, "2026-01-01")
    assert convert(row) == [7, True, '{"x": 1}', "2026-01-01 00:00:00+00:00", "0", "0" * 32,
                            "2026-01-01"]


# --- schema, order, counts --------------------------------------------------------------------

def test_referenced_tables_come_first():
    refs = {"task": {"project"}, "task_completion": {"task", "htx_user"},
            "project": {"organization", "htx_user"}, "prediction": {"task", "project"}}
    order = mover.insert_order(["task_completion", "prediction", "task", "project", "htx_user",
                                "organization"], refs)
    assert sorted(order) == sorted(["task_completion", "prediction", "task", "project",
                                    "htx_user", "organization"])
    for table, targets in refs.items():
        for target in targets:
            assert order.index(target) < order.index(table), (target, table)


def test_cycles_and_self_references_still_give_every_table_once_deterministically():
    refs = {"htx_user": {"organization", "htx_user"}, "organization": {"htx_user"},
            "project": {"organization", "htx_user", "outside_the_copy"}}
    tables = ["project", "organization", "htx_user"]
    order = mover.insert_order(tables, refs)
    assert order == mover.insert_order(list(reversed(tables)), refs)
    assert sorted(order) == sorted(tables) and order[-1] == "project"


def test_schema_problems_name_missing_tables_and_columns_but_ignore_column_order():
    sqlite_cols = {"project": ["id", "title", "extra"], "task": ["id", "data"], "gone": ["id"]}
    pg_cols = {"project": ["id", "title", "new"], "task": ["data", "id"]}
    problems = mover.schema_problems(sqlite_cols, pg_cols)
    assert problems == ["table gone is not in the PostgreSQL schema",
                        "table project: columns only in SQLite ['extra'], "
                        "only in PostgreSQL ['new']"]


def test_migration_problems_say_which_side_is_ahead():
    common = [("tasks", "0001_initial")]
    assert mover.migration_problems(common, common) == []
    problems = mover.migration_problems(common, common + [("tasks", "0060_x")])
    assert problems == ["1 migration(s) applied only in PostgreSQL: tasks.0060_x"]
    many = [("a", f"{i:04}") for i in range(7)]
    assert mover.migration_problems(many, [])[0].endswith(" ...")


def test_count_mismatches_name_each_differing_table():
    assert mover.count_mismatches({"task": 3, "project": 1}, {"project": 1, "task": 3}) == []
    assert mover.count_mismatches({"task": 3, "project": 1, "x": 0},
                                  {"task": 2, "project": 1}) == [("task", 3, 2), ("x", 0, None)]


def test_occupied_lists_only_study_tables_with_rows():
    counts = {"project": 0, "task": 0, "htx_user": 1, "django_content_type": 77,
              "auth_permission": 305}
    assert mover.occupied(counts) == {"htx_user": 1}
    assert mover.occupied({}) == {}


@pytest.mark.parametrize("max_id, seq, expected", [(None, None, 1), (26, 26, 27), (26, 30, 31),
                                                   (40, 30, 41), (None, 5, 6)])
def test_next_id_never_reuses_an_id_sqlite_handed_out(max_id, seq, expected):
    assert mover.next_id(max_id, seq) == expected


def test_copied_tables_leave_out_sqlites_own_and_the_migration_owned_ones():
    tables = ["sqlite_sequence", "sqlite_stat1", "django_migrations", "core_asyncmigrationstatus",
              "task", "django_content_type", "auth_permission"]
    assert mover.copied_tables(tables) == ["auth_permission", "django_content_type", "task"]


def test_generated_columns_are_not_copied():
    columns = mover.copy_columns(["id", "title", "search_vector"], {"search_vector"})
    assert columns == ["id", "title"]


def test_totals_use_label_studios_table_names():
    t = mover.totals({"project": 3, "task": 45, "task_completion": 26, "htx_user": 2,
                      "authtoken_token": 2})
    picked = (t["projects"], t["tasks"], t["annotations"], t["users"], t["tokens"])
    assert picked == (3, 45, 26, 2, 2)
    assert t["predictions"] == 0


def test_quote_ident():
    assert mover.quote_ident('we"ird') == '"we""ird"'


# --- refusals before any database -------------------------------------------------------------

def _run_main(monkeypatch, capsys, env, sqlite_path):
    for key in list(PG_ENV) + ["POSTGRE_HOST", "POSTGRE_PORT"]:
        for prefix in ("", "LABEL_STUDIO_", "HEARTEX_"):
            monkeypatch.delenv(prefix + key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    code = mover.main(["--sqlite", str(sqlite_path)])
    out = capsys.readouterr()
    return code, json.loads(out.out), out.err


def test_main_without_connection_settings_fails_with_one_json_object(monkeypatch, capsys, tmp_path):
    code, result, err = _run_main(monkeypatch, capsys, {}, tmp_path / "x.sqlite3")
    assert code == 1 and result["status"] == "failed"
    assert "POSTGRE_NAME" in result["error"] and "ERROR" in err


def test_main_refuses_a_missing_sqlite_file(monkeypatch, capsys, tmp_path):
    code, result, _ = _run_main(monkeypatch, capsys, PG_ENV, tmp_path / "missing.sqlite3")
    assert code == 1 and "no SQLite database" in result["error"]
    assert str(tmp_path / "missing.sqlite3") in result["error"]


def test_main_refuses_a_database_that_is_not_label_studios(monkeypatch, capsys, tmp_path):
    path = tmp_path / "other.sqlite3"
    sqlite3.connect(path).executescript("CREATE TABLE t (id integer); ")
    code, result, _ = _run_main(monkeypatch, capsys, PG_ENV, path)
    assert code == 1 and "not a Label Studio database" in result["error"]
    assert str(path) in result["error"]


def test_the_sqlite_file_is_opened_read_only(tmp_path):
    path = tmp_path / "ls.sqlite3"
    conn = sqlite3.connect(path)
    conn.executescript("CREATE TABLE task (id integer PRIMARY KEY AUTOINCREMENT, data text);"
                       "INSERT INTO task (data) VALUES ('a'), ('b');"
                       "DELETE FROM task WHERE id = 2;")
    conn.commit()
    conn.close()
    ro = mover.open_sqlite(str(path))
    assert mover.sqlite_count(ro, "task") == 1
    assert mover.sqlite_sequences(ro) == {"task": 2}
    assert mover.sqlite_columns(ro, "task") == ["id", "data"]
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        ro.execute("INSERT INTO task (data) VALUES ('c')")
    ro.close()


def test_study_difference_names_the_projects_whose_counts_moved():
    before = [{"id": 1, "title": "a", "tasks": 2, "annotations": 3, "skipped": 0},
              {"id": 2, "title": "b", "tasks": 1, "annotations": 0, "skipped": 0}]
    assert mover.study_difference(before, [dict(p) for p in before]) == ""
    after = [dict(before[0], annotations=2)]
    difference = mover.study_difference(before, after)
    assert difference.startswith("project 1: SQLite {") and "'annotations': 2" in difference
    assert "project 2: SQLite {" in difference and difference.endswith("PostgreSQL None")
