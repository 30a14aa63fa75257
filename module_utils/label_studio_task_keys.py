# -*- coding: utf-8 -*-
"""Which tasks a project already has, by the study's key.

Listing 10k tasks through the API takes ~3-4 s, about twice the import itself, so a no-op
re-import would cost more than the import. On the node, a read-only query of Label Studio's
database answers in a fraction of that: SQLite's file read here (~0.02 s), PostgreSQL through
the node package's task-keys command (one run for every project). Either is used only when the
caller names it, and only if it agrees with the API's task count for the project; otherwise the
API is used.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import sqlite3
import subprocess

try:
    from urllib.parse import quote
except ImportError:  # pragma: no cover
    from urllib import quote


def records_from_api(client, project_id, key):
    records = []
    for task in client.list_tasks(project_id):
        data = task.get("data") or {}
        records.append({"id": task["id"], "key": data.get(key),
                        "annotations": (task.get("total_annotations") or 0)
                        + (task.get("cancelled_annotations") or 0)})
    return records


def records_from_database(path, project_id, key):
    """Task records read from the SQLite file in read-only mode (never writes, never locks long)."""
    uri = "file:%s?mode=ro" % quote(os.path.abspath(path))
    conn = sqlite3.connect(uri, uri=True, timeout=30)
    try:
        rows = conn.execute(
            "SELECT id, json_extract(data, ?), "
            "COALESCE(total_annotations, 0) + COALESCE(cancelled_annotations, 0) "
            "FROM task WHERE project_id = ?", ('$."%s"' % key.replace('"', '\\"'), project_id)).fetchall()
    finally:
        conn.close()
    return as_records(rows)


def as_records(rows):
    """Records from (task id, key value, annotations + skips) rows, as either database gives them."""
    return [{"id": r[0], "key": r[1], "annotations": r[2]} for r in rows]


def records_from_node_command(command, project_ids, key):
    """{project id: records} read by the node package's task-keys command (PostgreSQL), run once
    for every project; None when it fails (the caller then lists through the API)."""
    argv = list(command) + ["task-keys", "--key", key]
    for project_id in project_ids:
        argv += ["--project", str(project_id)]
    try:
        run = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, check=False)
        if run.returncode != 0:
            return None
        projects = json.loads(run.stdout.decode("utf-8"))["projects"]
        return dict((int(project_id), as_records(rows)) for project_id, rows in projects.items())
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None


def existing_records(client, project, key, database=None, read_records=None):
    """(records, source) for a project dict from the API; source says where the keys came from.

    read_records: {project id: records} read from the database already (records_from_node_command)."""
    expected = project.get("task_number")
    records = None
    if expected is not None and read_records is not None:
        records = read_records.get(project["id"])
    elif database and os.path.exists(database) and expected is not None:
        try:
            records = records_from_database(database, project["id"], key)
        except sqlite3.Error:
            records = None
    if records is not None and len(records) == expected:
        return records, "database"
    return records_from_api(client, project["id"], key), "api"
