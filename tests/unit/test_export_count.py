"""Counting and fingerprinting exports (module_utils/label_studio_export_count.py)."""
from __future__ import annotations

import hashlib
import json

from ansible.module_utils.label_studio_export_count import content_sha256, count_export

TASKS = [{"id": 1, "data": {"study_id": 7, "reference0": "text"}, "annotations": [{"id": 3}]},
         {"id": 2, "data": {"study_id": 8, "reference0": "more"}, "annotations": []}]


def test_json_fingerprint_ignores_key_order():
    # PostgreSQL's jsonb hands a task's data back with its keys in another order than SQLite.
    reordered = [{"annotations": t["annotations"], "id": t["id"],
                  "data": dict(reversed(list(t["data"].items())))} for t in TASKS]
    assert json.dumps(reordered) != json.dumps(TASKS)
    assert content_sha256(json.dumps(reordered).encode(), "JSON") == \
        content_sha256(json.dumps(TASKS, indent=2).encode(), "JSON")


def test_json_fingerprint_ignores_record_order():
    # Label Studio on PostgreSQL lists a project's tasks in another order.
    assert content_sha256(json.dumps(TASKS[::-1]).encode(), "JSON") == \
        content_sha256(json.dumps(TASKS).encode(), "JSON")


def test_json_fingerprint_sees_a_moved_annotation():
    moved = json.loads(json.dumps(TASKS))
    moved[0]["annotations"], moved[1]["annotations"] = [], [{"id": 3}]
    assert content_sha256(json.dumps(moved).encode(), "JSON") != \
        content_sha256(json.dumps(TASKS).encode(), "JSON")


def test_json_fingerprint_sees_a_changed_value():
    changed = json.loads(json.dumps(TASKS))
    changed[1]["data"]["reference0"] = "other"
    assert content_sha256(json.dumps(changed).encode(), "JSON") != \
        content_sha256(json.dumps(TASKS).encode(), "JSON")


def test_csv_fingerprint_is_of_the_bytes():
    # Not of the rows as a set: the same rows in another order are another file.
    assert content_sha256(b"a,b\n1,2\n", "CSV") == hashlib.sha256(b"a,b\n1,2\n").hexdigest()
    assert content_sha256(b"a,b\n1,2\n3,4\n", "CSV") != content_sha256(b"a,b\n3,4\n1,2\n", "CSV")


def test_count_export_includes_the_fingerprint():
    counted = count_export(json.dumps(TASKS).encode(), "JSON")
    assert (counted["tasks"], counted["annotations"]) == (2, 1)
    assert counted["content_sha256"] == content_sha256(json.dumps(TASKS).encode(), "JSON")
