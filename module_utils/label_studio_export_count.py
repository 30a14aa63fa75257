# -*- coding: utf-8 -*-
"""Count tasks and annotations in an export, whatever its format, and fingerprint its content."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import csv
import hashlib
import io
import json


def count_export(content, export_type):
    """{"tasks", "annotations", "content_sha256"} of an export's bytes."""
    counts = _count(content, export_type)
    counts["content_sha256"] = content_sha256(content, export_type)
    return counts


def content_sha256(content, export_type):
    """sha256 of what the export says, not how it is spelled: JSON records are hashed in a
    canonical form (sorted keys, records sorted), because on PostgreSQL Label Studio lists tasks
    in another order and jsonb returns a task's data keys in its own order, while SQLite keeps
    them as imported. CSV is hashed as is."""
    if export_type == "CSV":
        return hashlib.sha256(content).hexdigest()
    records = json.loads(content.decode("utf-8"))
    if isinstance(records, list):
        canonical = "\n".join(sorted(_canonical(record) for record in records))
    else:
        canonical = _canonical(records)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _canonical(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _count(content, export_type):
    text = content.decode("utf-8")
    if export_type == "CSV":
        rows = list(csv.reader(io.StringIO(text)))
        return {"tasks": max(0, len(rows) - 1), "annotations": max(0, len(rows) - 1)}
    records = json.loads(text)
    if export_type == "JSON_MIN":
        # One record per annotation; unannotated tasks appear once with no annotation_id.
        annotated = [r for r in records if r.get("annotation_id") is not None]
        return {"tasks": len({r.get("id") for r in records}), "annotations": len(annotated)}
    return {"tasks": len(records),
            "annotations": sum(len(r.get("annotations") or []) for r in records)}
