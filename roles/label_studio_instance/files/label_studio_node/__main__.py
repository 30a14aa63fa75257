"""python -m label_studio_node COMMAND [ARGS]: one entry point for every node-side command."""
import sys

# The backup and restore commands share one argument parser (cli.py); the others have their own.
BACKUP_AND_RESTORE = ("backup", "verify", "inspect", "plan-restore", "secrets", "unpack",
                      "load-postgresql")
OTHERS = ("check-database", "sqlite-to-postgresql", "scheduler", "convert-export", "task-keys")


def main(argv) -> int:
    command = argv[0] if argv else ""
    # Each command imports only what it needs: SQLite nodes have no psycopg.
    if command in BACKUP_AND_RESTORE:
        from .cli import main as run
        return run(argv)
    if command == "check-database":
        from .check_database import main as run
    elif command == "sqlite-to-postgresql":
        from .sqlite_to_postgresql import main as run
    elif command == "scheduler":
        from .scheduler import run
    elif command == "convert-export":
        from .convert_export import main as run
    elif command == "task-keys":
        from .task_keys import main as run
    else:
        print("usage: python -m label_studio_node {%s} ..."
              % ",".join(BACKUP_AND_RESTORE + OTHERS), file=sys.stderr)
        return 2
    return run(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
