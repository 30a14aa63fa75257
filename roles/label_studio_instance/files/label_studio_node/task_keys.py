"""task-keys: which tasks some projects already hold, by the study's key, read from Label
Studio's PostgreSQL database.

label_studio_tasks compares every import with what its project holds. On SQLite it reads that
from the database file itself; on PostgreSQL it used to list every task through the API, which
takes ~0.2 s per 750 tasks (4-5 s for a study's 20 projects on a re-run that imports nothing).
This is one read-only query for all the projects. The connection comes from Label Studio's
POSTGRE_* variables (run it through with-service-env), so the password is never in an argv.

Prints {"projects": {"PROJECT_ID": [[task id, key value, annotations + skips], ...]}}: only ids,
key values (the study's report ids) and counts, no task text. Exits 1 with a message otherwise.
"""
from __future__ import annotations

import argparse
import json
import sys

from .errors import NodeError

# data -> key keeps the JSON type (a number stays a number), as SQLite's json_extract does: the
# module compares the values with its tasks' own.
QUERY = ("SELECT project_id, id, data -> %s::text, "
         "COALESCE(total_annotations, 0) + COALESCE(cancelled_annotations, 0) "
         "FROM task WHERE project_id = ANY(%s) ORDER BY id")


def by_project(rows, project_ids) -> dict:
    """{project id (text): [[task id, key, annotations], ...]} with every asked project. Pure."""
    found = {str(pid): [] for pid in project_ids}
    for project_id, task_id, key, annotations in rows:
        found[str(project_id)].append([task_id, key, annotations])
    return found


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="label_studio_node task-keys",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--key", required=True, help="the data field that identifies a task")
    parser.add_argument("--project", type=int, action="append", required=True, dest="projects")
    args = parser.parse_args(argv)
    # psycopg only here: the grouping above is used (and tested) without a database driver.
    from .pgdump import connect
    from .postgresql import connection_settings, driver
    try:
        db = connect(connection_settings())
        try:
            with db.cursor() as cursor:  # psycopg2 (Label Studio 1.6) has no db.execute
                cursor.execute(QUERY, (args.key, args.projects))
                rows = cursor.fetchall()
        finally:
            db.close()
    except (NodeError, driver.Error) as err:
        print(f"task-keys: {' '.join(str(err).split()) or type(err).__name__}", file=sys.stderr)
        return 1
    json.dump({"projects": by_project(rows, args.projects)}, sys.stdout)
    sys.stdout.write("\n")
    return 0
