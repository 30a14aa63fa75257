"""Arguments, logging and output of the backup and restore commands (backup.py, restore.py).

Each command prints one JSON object on stdout (backup only with --json) and exits 0, or logs
"<command> FAILED: <why>" and exits 1.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys

from . import snapshot
from .backup import cmd_backup, cmd_verify
from .errors import NodeError
from .restore import cmd_inspect, cmd_load_postgresql, cmd_plan_restore, cmd_secrets, cmd_unpack
from .snapshot import SNAPSHOTTERS

DESCRIPTION = "Consistent, verified, dated backups of one Label Studio instance, and their restore."

log = logging.getLogger("label-studio-backup")


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


def add_key_arguments(parser, reads_archives=True) -> None:
    parser.add_argument("--key-file", required=True,
                        help="the instance's backup key (0600): signs new archives, authenticates read ones")
    if reads_archives:
        parser.add_argument("--allow-unsigned", action="store_true",
                            help="accept an archive without a signature (made before signing)")


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="label_studio_node", description=DESCRIPTION)
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
    snapshot.PG_BIN_DIR = getattr(args, "pg_bin_dir", None)
    setup_log(getattr(args, "log", None), echo=args.command != "backup" or args.json)
    try:
        result = COMMANDS[args.command](args)
    except NodeError as err:
        log.error("%s FAILED: %s", args.command, err)
        return 1
    except Exception as err:  # noqa: BLE001 - cron has no one to show a traceback to
        log.exception("%s FAILED: %s: %s", args.command, type(err).__name__, err)
        return 1
    if args.command != "backup" or args.json:
        json.dump(result, sys.stdout, sort_keys=True)
        sys.stdout.write("\n")
    return 0

