"""How many projects, tasks and annotations: the one SQL query that backup manifests, restore
checks and the SQLite -> PostgreSQL copy compare. The same SQL runs on both engines."""
from __future__ import annotations

from .times import iso_utc, parse_time


def summarize(db) -> dict:
    """Per-project task and annotation counts and the newest change, through a DB-API
    connection with .execute (sqlite3, psycopg 3): the SQL is the same for both engines."""
    projects = [
        {"id": pid, "title": title, "tasks": tasks, "annotations": annotations,
         "skipped": skipped or 0}
        for pid, title, tasks, annotations, skipped in db.execute(
            """
            SELECT p.id, p.title,
                   (SELECT count(*) FROM task t WHERE t.project_id = p.id),
                   (SELECT count(*) FROM task_completion c JOIN task t ON c.task_id = t.id
                     WHERE t.project_id = p.id),
                   (SELECT sum(CASE WHEN c.was_cancelled THEN 1 ELSE 0 END) FROM task_completion c
                     JOIN task t ON c.task_id = t.id WHERE t.project_id = p.id)
              FROM project p ORDER BY p.id
            """).fetchall()
    ]
    newest = db.execute(
        "SELECT max(m) FROM (SELECT max(updated_at) AS m FROM task"
        " UNION ALL SELECT max(updated_at) FROM task_completion) AS newest").fetchone()[0]
    if isinstance(newest, str):  # SQLite keeps times as text
        newest = parse_time(newest)
    return {"projects": projects, "newest_update": iso_utc(newest) if newest else None}


def counts_by_project(projects) -> dict:
    return {str(p["id"]): {"tasks": p["tasks"], "annotations": p["annotations"]} for p in projects}


def totals(projects) -> dict:
    """The manifest's totals of summarize()'s projects. Pure."""
    return {"projects": len(projects),
            "tasks": sum(p["tasks"] for p in projects),
            "annotations": sum(p["annotations"] for p in projects)}
