"""The node's backup script (roles/label_studio_backup/files), imported as a module for tests."""
from __future__ import annotations

import importlib.util
import sqlite3
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "roles/label_studio_backup/files/label_studio_backup.py"


def load():
    spec = importlib.util.spec_from_file_location("label_studio_backup", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_label_studio_db(path: Path) -> None:
    """A tiny database with the three tables (and columns) the backup reads from Label Studio's."""
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE project (id integer PRIMARY KEY, title varchar(50));
        CREATE TABLE task (id integer PRIMARY KEY, project_id integer, updated_at datetime);
        CREATE TABLE task_completion (id integer PRIMARY KEY, task_id integer, was_cancelled bool,
                                      updated_at datetime);
        INSERT INTO project VALUES (1, 'RRS: annotator1'), (2, 'RRS: annotator2'), (3, 'empty');
        INSERT INTO task VALUES (10, 1, '2025-03-01 10:00:00.000001'), (11, 1, '2025-03-01 10:00:00'),
                                (20, 2, '2025-03-01 11:00:00');
        INSERT INTO task_completion VALUES (100, 10, 0, '2025-03-02 09:30:00.250000'),
                                           (101, 10, 1, '2025-03-01 10:00:00'),
                                           (102, 20, 0, '2025-03-01 12:00:00');
    """)
    conn.commit()
    conn.close()
