"""The node's backup and restore commands (label_studio_node), as one namespace for tests."""
from __future__ import annotations

import sqlite3
import types
from pathlib import Path

from support import node_package  # noqa: F401  (puts label_studio_node on sys.path)


def load():
    """Everything the backup and restore commands are made of, under one name (tests read
    e.g. backup.summarize_sqlite, backup.cmd_unpack, backup.BackupError)."""
    from label_studio_node import archive, backup, cli, counts, errors, restore, snapshot

    merged = types.SimpleNamespace()
    for module in (counts, snapshot, archive, backup, restore, cli):
        merged.__dict__.update({k: v for k, v in vars(module).items() if not k.startswith("__")})
    merged.BackupError = errors.NodeError
    return merged


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
