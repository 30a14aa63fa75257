"""The PostgreSQL driver and the connection, once (imported only by commands that need it:
SQLite nodes have no psycopg)."""
from __future__ import annotations

import os

try:  # Label Studio >= 1.13 ships psycopg 3, older releases psycopg2.
    import psycopg as driver
except ImportError:  # pragma: no cover - depends on the Label Studio version
    import psycopg2 as driver

from .settings import libpq, postgres_settings


def connection_settings(environ=None) -> dict:
    """libpq keywords of the instance's database (settings.postgres_settings' rule)."""
    return libpq(postgres_settings(os.environ if environ is None else environ))


def where(conn: dict, dbname: str | None = None) -> str:
    return f"database {dbname or conn['dbname']} as {conn['user']} on {conn['host']}:{conn['port']}"
