"""check-database: wait until Label Studio's PostgreSQL database answers, and say whether it is
still empty.

Run by the launcher before every start (the own cluster starts beside Label Studio, so it may
not accept connections yet) and by deploy, which turns a failure into a clear message instead
of a health-check timeout. Reads POSTGRE_* from the environment (settings.py's rule;
with-service-env sources the 0600 env file), so the password never appears in an argv.

Prints "empty" (no Label Studio tables yet: the first start creates the admin) or "ready".
Exits 1 with a message naming host, port, database and user when the server refuses.
"""
from __future__ import annotations

import argparse
import sys
import time

from .errors import NodeError
from .postgresql import connection_settings, driver, where

# Errors worth waiting out: the server is not up yet, or is starting or recovering.
TRANSIENT = ("connection refused", "the database system is starting up",
             "the database system is in recovery mode", "no such file or directory",
             "could not connect", "timeout expired", "server closed the connection")


def is_transient(message: str) -> bool:
    lowered = message.lower()
    return any(text in lowered for text in TRANSIENT)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="label_studio_node check-database",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--wait", type=float, default=60, help="seconds to wait for the server")
    args = parser.parse_args(argv)
    try:
        conn = connection_settings()
    except NodeError as err:
        print(f"check-database: {err}", file=sys.stderr)
        return 1
    deadline = time.monotonic() + args.wait
    while True:
        try:
            with driver.connect(**conn, connect_timeout=5) as db, db.cursor() as cursor:
                # htx_user is created by Label Studio's first migrations.
                cursor.execute("SELECT to_regclass('public.htx_user') IS NULL")
                print("empty" if cursor.fetchone()[0] else "ready")
                return 0
        except driver.OperationalError as err:
            # libpq's message may span lines (the reason, then advice): keep all of it.
            message = " ".join(str(err).split()) or type(err).__name__
            if not is_transient(str(err)) or time.monotonic() >= deadline:
                print(f"PostgreSQL refused {where(conn)}: {message}", file=sys.stderr)
                return 1
            time.sleep(1)
