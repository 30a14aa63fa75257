"""One database per setting: every node-side command reads POSTGRE_* as Label Studio does, and
the package's shared helpers exist once."""
import importlib
import re
import sys
import types
from pathlib import Path

import pytest

from support import node_package

ROOT = Path(__file__).resolve().parents[2]
NODE_MODULES = ("label_studio_node.postgresql", "label_studio_node.pgdump",
                "label_studio_node.check_database", "label_studio_node.sqlite_to_postgresql")


@pytest.fixture()
def readers(monkeypatch):
    # No database driver in the unit tests: a stand-in with the one name the commands touch.
    fake = types.ModuleType("psycopg")
    fake.OperationalError = type("OperationalError", (Exception,), {})
    monkeypatch.setitem(sys.modules, "psycopg", fake)
    for name in NODE_MODULES:  # imported afresh with the stand-in, dropped again afterwards
        monkeypatch.delitem(sys.modules, name, raising=False)
    pgdump = importlib.import_module("label_studio_node.pgdump")
    check = importlib.import_module("label_studio_node.check_database")
    mover = importlib.import_module("label_studio_node.sqlite_to_postgresql")
    yield {
        # What each command connects to, through the function it calls.
        "migration": lambda env: (mover.postgres_settings(env)["HOST"],
                                  str(mover.postgres_settings(env)["PORT"])),
        "backup": lambda env: (pgdump.connection_settings(env)["host"],
                               str(pgdump.connection_settings(env)["port"])),
        "check": lambda env: (check.connection_settings(env)["host"],
                              str(check.connection_settings(env)["port"])),
    }
    for name in NODE_MODULES:
        sys.modules.pop(name, None)


ENV = {"POSTGRE_NAME": "ls", "POSTGRE_USER": "owner", "POSTGRE_PASSWORD": "pw",
       "POSTGRE_HOST": "plain.example", "POSTGRE_PORT": "5432"}


@pytest.mark.parametrize("prefixed, expected", [
    ({}, ("plain.example", "5432")),
    ({"HEARTEX_POSTGRE_HOST": "heartex.example", "HEARTEX_POSTGRE_PORT": "5434"},
     ("heartex.example", "5434")),
    ({"LABEL_STUDIO_POSTGRE_HOST": "ls.example", "HEARTEX_POSTGRE_HOST": "heartex.example"},
     ("ls.example", "5432")),
])
def test_every_command_picks_the_host_label_studio_picks(readers, prefixed, expected):
    # Label Studio's get_env: LABEL_STUDIO_X, then HEARTEX_X, then X.
    env = {**ENV, **prefixed}
    assert {name: read(env) for name, read in readers.items()} == {
        name: expected for name in readers}


def test_host_and_port_default_as_in_label_studio(readers):
    env = {k: v for k, v in ENV.items() if k not in ("POSTGRE_HOST", "POSTGRE_PORT")}
    assert {name: read(env) for name, read in readers.items()} == {
        name: ("localhost", "5432") for name in readers}


@pytest.mark.parametrize("shared", ["env_file.py", "atomic_files.py", "label_studio_lock.py"])
def test_helpers_shared_with_the_modules_are_the_same_files(shared):
    # Installed with the package, written once: module_utils holds the only copy.
    assert (node_package.PACKAGE / shared).resolve() == ROOT / "module_utils" / shared


@pytest.mark.parametrize("pattern, only_in", [
    (r"^\s*import psycopg", "postgresql.py"),  # the driver fallback
    (r"\bfcntl\.flock\(", "label_studio_lock.py"),  # locking
    (r"\bos\.fsync\(\w*(fd|descriptor)\w*\)", "atomic_files.py"),  # fsync of a directory
    (r"\bshlex\.split\(", "env_file.py"),  # the env file parser
    (r"['\"]LABEL_STUDIO_['\"]", "settings.py"),  # the prefix rule
])
def test_each_shared_job_is_written_once(pattern, only_in):
    found = sorted(path.name for path in node_package.PACKAGE.glob("*.py")
                   if re.search(pattern, path.read_text(), re.MULTILINE))
    assert found == [only_in]
