"""label_studio_node: every command the automation runs on the node itself, as one package.

Why one package: the backup, the restore helpers, the database check, the SQLite -> PostgreSQL
copy and the backup scheduler need the same few things (the instance's database settings, its env
files, a lock, a durable rename, the study's counts). Written once here, every command reads the
same database the same way, and each command is a short file.

Installed once per instance by the label_studio_instance role's entry point `node_package`
(tasks/node_package.yml): this directory travels as one zip (files/build_node_zip.py) to
<state dir>/label_studio_node.zip (0600). Run as

    /usr/bin/env PYTHONPATH=<state dir>/label_studio_node.zip <python> -m label_studio_node COMMAND [ARGS]

(the role's public `label_studio_node_env`/`label_studio_node_run` hold that prefix). No secret
is ever an argument: commands
that connect to PostgreSQL run under the instance's with-service-env, which hands them POSTGRE_*
through the environment. Standard library only, except psycopg (3, or psycopg2 on old Label
Studio releases), imported only by the commands that talk to PostgreSQL, and Label Studio's own
converter and ujson, imported only by convert-export (which runs with the environment's Python
for that reason); Python 3.8+.

Modules
  settings      the one rule for POSTGRE_* (Label Studio's own: LABEL_STUDIO_X, HEARTEX_X, X)
  env_file      NAME=value env files (the same file as module_utils/env_file.py, a symlink)
  label_studio_lock  exclusive locks (module_utils/label_studio_lock.py, a symlink)
  atomic_files  atomic writes and directory fsync (module_utils/atomic_files.py, a symlink)
  files         small file helpers (private dirs, read-only SQLite URIs, checksums)
  postgresql    the driver import and the connection, once
  counts        projects, tasks and annotations per project, as one SQL query for both engines
  archive       backup archives: manifest, signature, pack, read, verify
  snapshot      the database part of a backup (SQLite online backup; pg_dump in pgdump)
  backup        the backup and verify commands, retention
  restore       inspect, plan-restore, secrets, unpack, load-postgresql
  cli           arguments, logging and JSON output of the backup and restore commands
  check_database   wait for PostgreSQL, say whether it is empty
  sqlite_to_postgresql   copy a SQLite study into an empty PostgreSQL database
  scheduler     run the backup on a crontab schedule without cron
  convert_export   an export in JSON_MIN/JSON/CSV made from the full export by Label Studio's converter
"""
