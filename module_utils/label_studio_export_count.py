# -*- coding: utf-8 -*-
"""Count tasks and annotations in an export, whatever its format."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import csv
import io
import json


def count_export(content, export_type):
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
