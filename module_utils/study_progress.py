# -*- coding: utf-8 -*-
"""Progress of the study per batch and annotator, from each project's task records."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type


def progress_table(tasks_by_annotator, key="study_id"):
    """tasks_by_annotator: {annotator: [{"data": {...}, "total_annotations", "cancelled_annotations"}]}.

    Returns (rows, overlap): rows per (batch, annotator) with assigned / annotated (at least one
    submitted annotation) / skipped (only skipped annotations) / remaining; overlap per batch is
    the number of reports with at least two annotators' submitted annotations (what agreement can
    be computed on).
    """
    counts, finished_by = {}, {}
    for annotator, tasks in tasks_by_annotator.items():
        for task in tasks:
            data = task.get("data") or {}
            batch = data.get("batch") or "(no batch)"
            row = counts.setdefault((batch, annotator), {"batch": batch, "annotator": annotator,
                                                         "assigned": 0, "annotated": 0,
                                                         "skipped": 0, "remaining": 0})
            row["assigned"] += 1
            if task.get("total_annotations"):
                row["annotated"] += 1
                finished_by.setdefault(batch, {}).setdefault(str(data.get(key)), set()).add(annotator)
            elif task.get("cancelled_annotations"):
                row["skipped"] += 1
            else:
                row["remaining"] += 1
    order = {name: i for i, name in enumerate(tasks_by_annotator)}
    rows = sorted(counts.values(), key=lambda r: (r["batch"], order[r["annotator"]]))
    overlap = {batch: sum(1 for names in reports.values() if len(names) >= 2)
               for batch, reports in sorted(finished_by.items())}
    for batch in {r["batch"] for r in rows}:
        overlap.setdefault(batch, 0)
    return rows, dict(sorted(overlap.items()))


def format_table(rows, overlap):
    """Plain-text table for the terminal."""
    header = ("batch", "annotator", "assigned", "annotated", "skipped", "remaining")
    lines = [header] + [tuple(str(r[h]) for h in header) for r in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    text = ["  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip() for line in lines]
    text.append("")
    text += ["%s: %d report(s) with >= 2 finished annotations" % (b, n) for b, n in overlap.items()]
    return text
