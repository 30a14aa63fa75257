# -*- coding: utf-8 -*-
"""JSON_MIN exports -> one record per (report, annotator, candidate), and the checks on them.

An annotation here is one submitted annotation of one annotator's project; the annotator is the
project's (the export file's) name, whatever account made it.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible.module_utils.study_sheet import normalize_id
from ansible.module_utils.study_analysis_config import KINDS

# Spans this short are usually a slip of the mouse (one letter, a space); reported, still used.
SHORT_SPAN = 2
_FIRST_INTEGER = re.compile(r"[0-9]+")


class RecordError(ValueError):
    """An export cannot be read as the study's JSON_MIN; the message says where."""


def problem(check, where, detail, batch=None):
    return {"batch": batch, "check": check, "where": where, "detail": detail}


def first_integer(text):
    """Minutes from a duration answer: the first integer in it ("about 5-6 min" -> 5), or None."""
    if text is None:
        return None
    if isinstance(text, list):
        text = " ".join(str(item) for item in text)
    match = _FIRST_INTEGER.search(str(text))
    return int(match.group(0)) if match else None


def _regions(value, where):
    if value is None:
        return []
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        raise RecordError("%s: expected a list of regions, found %s" % (where, type(value).__name__))
    return value


def _choices(value):
    """JSON_MIN gives one choice as a string and several as {"choices": [...]}."""
    if value is None:
        return []
    if isinstance(value, dict):
        value = value.get("choices", [])
    if isinstance(value, str):
        return [value]
    return [str(item) for item in value]


def _has_text(value):
    if isinstance(value, list):
        return any(_has_text(item) for item in value)
    if isinstance(value, dict):
        value = value.get("text")
        return _has_text(value)
    return value is not None and str(value).strip() != ""


def read_annotation(annotator, item, position, scheme, key, duration_control, problems):
    """One export item -> an annotation dict, or None for a task without an annotation."""
    if not isinstance(item, dict):
        raise RecordError("item %d: expected an object, found %s" % (position, type(item).__name__))
    if item.get("annotation_id") is None and item.get("annotator") is None:
        return None  # an unannotated task (download_all_tasks)
    report = normalize_id(item.get(key))
    where = "%s item %d (task %s, annotation %s)" % (annotator, position, item.get("id"),
                                                       item.get("annotation_id"))
    if report is None:
        raise RecordError("%s: no report id in field \"%s\"" % (where, key))
    order = item.get("order")
    if not isinstance(order, list):
        raise RecordError("%s: field \"order\" (the model of each candidate) is not a list" % where)
    candidates = {}
    for index in scheme.candidates:
        if index >= len(order):
            raise RecordError("%s: \"order\" names %d models but the label config has candidate%d"
                              % (where, len(order), index))
        entry = {"model": str(order[index]), "errors": set(), "other": False}
        for kind in KINDS:
            control = scheme.spans[index].get(kind)
            spans = []
            for number, region in enumerate(_regions(item.get(control), "%s %s" % (where, control)), 1):
                if not isinstance(region, dict):
                    raise RecordError("%s %s region %d: not an object" % (where, control, number))
                labels = region.get("labels") or []
                try:
                    start, end = int(region["start"]), int(region["end"])
                except (KeyError, TypeError, ValueError):
                    raise RecordError("%s %s region %d: no integer start/end" % (where, control, number))
                if not labels:
                    continue  # a region without a label carries no category
                if end - start <= SHORT_SPAN:
                    problems.append(problem(
                        "short span", "%s report %s %s [%d, %d)" % (annotator, report, control, start, end),
                        "%d character(s); used as marked" % (end - start), item.get("batch")))
                spans.append((start, end, str(labels[0])))
            entry[kind] = spans
        chosen = _choices(item.get(scheme.choices.get(index)))
        entry["errors"] = set(value for value in chosen if value in scheme.errors)
        entry["other"] = any(_has_text(item.get(name)) for name in scheme.other_texts.get(index, []))
        candidates[index] = entry
    return {
        "report": report, "batch": None if item.get("batch") is None else str(item.get("batch")),
        "annotator": annotator, "task": item.get("id"), "annotation": item.get("annotation_id"),
        "updated": str(item.get("updated_at") or ""), "minutes": first_integer(item.get(duration_control)),
        "duration_given": _has_text(item.get(duration_control)), "candidates": candidates,
    }


def read_exports(exports, scheme, key, duration_control="duration-minutes", sources=None):
    """[(annotator, JSON_MIN list)] -> (annotations, problems).

    One annotation per (annotator, report): when an annotator's project holds two for a report
    (a second account, a re-import), the last submitted (updated_at, then id) is used and the
    others are reported. sources: {annotator: file} to name the file in errors.
    """
    problems = []
    chosen = {}
    for annotator, items in exports:
        if not isinstance(items, list):
            raise RecordError("%s's export: expected a JSON array (JSON_MIN), found %s"
                              % (annotator, type(items).__name__))
        for position, item in enumerate(items, start=1):
            try:
                annotation = read_annotation(annotator, item, position, scheme, key,
                                             duration_control, problems)
            except RecordError as err:
                if sources and annotator in sources:
                    raise RecordError("%s: %s" % (sources[annotator], err))
                raise
            if annotation is None:
                continue
            slot = (annotator, annotation["report"])
            chosen.setdefault(slot, []).append(annotation)
    annotations = []
    for (annotator, report), found in chosen.items():
        found.sort(key=lambda a: (a["updated"], _sortable(a["annotation"])))
        if len(found) > 1:
            problems.append(problem(
                "two annotations by one annotator", "%s report %s" % (annotator, report),
                "annotations %s (tasks %s); used annotation %s, the last submitted" % (
                    ", ".join(str(a["annotation"]) for a in found),
                    ", ".join(str(a["task"]) for a in found), found[-1]["annotation"]),
                found[-1]["batch"]))
        annotations.append(found[-1])
    annotations.sort(key=lambda a: (str(a["batch"]), _sortable(a["report"]), a["annotator"]))
    return annotations, problems


def _sortable(value):
    """Ids may be ints or strings; order ints numerically, before strings."""
    return (0, value, "") if isinstance(value, int) else (1, 0, str(value))
