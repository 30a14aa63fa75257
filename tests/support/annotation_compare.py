"""Peer check for the merged table: Label Studio's own JSON_MIN export -> the same rows, where
the format allows (test-only; the merge itself is module_utils/annotation_table.py).

JSON_MIN cannot provide:
- skipped annotations (dropped), hence no "skipped" rows, and a task whose only annotations are
  skips is missing altogether (neither annotated nor unannotated): no "skipped only" tasks;
- drafts (the unannotated table's drafts column is None);
- annotator_user_id when the export came from the CLI (annotator is the email there), and
  annotator_email when it came from the API (annotator is the user id) -- unless a users map
  fills the other one in;
- results of controls that are not in the label config (dropped by the converter), relations,
  and result item ids and to_name (the region_id and to_name columns are empty).
It also lists a task with two annotations twice, newest first; the order here is our own.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from support.paths import use_project_module_utils

use_project_module_utils()  # also when imported outside pytest (bench)

from ansible.module_utils.annotation_table import (  # noqa: E402
    ORDER_FIELD, ROW_COLUMNS, UNANNOTATED, UNANNOTATED_COLUMNS, AnnotationTableError, _as_user_id,
    _check_annotators, _ordered, _row_order, _study_id, _task_order, _value_rows)

# Label config tag -> row kind (JSON_MIN carries no result type, so the config says what a key is).
_KIND_OF_TAG = {
    "Labels": "span",
    "HyperTextLabels": "span",
    "ParagraphLabels": "span",
    "Choices": "choice",
    "TextArea": "text",
}
# What a JSON_MIN record holds besides the task data and the controls.
_JSON_MIN_META = ("id", "annotator", "annotation_id", "created_at", "updated_at", "lead_time")


def controls_from_label_config(xml_text):
    """{control name: row kind} for the span/choice/text controls of a label config."""
    try:
        root = ET.fromstring(xml_text)
    except ET.ParseError as err:
        raise AnnotationTableError("the label config is not well-formed XML: %s" % err)
    controls = {}
    for element in root.iter():
        kind = _KIND_OF_TAG.get(element.tag)
        if kind and element.get("name"):
            controls[element.get("name")] = kind
    return controls


def tables_from_json_min(exports, controls, emails=None, key="study_id"):
    """(rows, unannotated) from JSON_MIN exports (API or `label-studio export PID JSON_MIN`).

    exports: list of (annotator name, JSON_MIN records); controls: controls_from_label_config().
    """
    _check_annotators(exports)
    emails = emails or {}
    ids_by_email = {}
    for user_id, email in emails.items():
        ids_by_email.setdefault(email, []).append(user_id)
    rows = []
    unannotated = []
    for position, (annotator, records) in enumerate(exports):
        if not isinstance(records, list):
            raise AnnotationTableError("%s: the JSON_MIN export must be a JSON list" % annotator)
        for index, record in enumerate(records):
            if not isinstance(record, dict) or not isinstance(record.get("id"), int):
                raise AnnotationTableError("%s: record #%d has no task id" % (annotator, index))
            where = "%s: task %d" % (annotator, record["id"])
            study_id = _study_id(record, key, where)
            common = {"study_id": study_id, "batch": record.get("batch"), "annotator": annotator,
                      "task_id": record["id"], "order": record.get(ORDER_FIELD)}
            author = record.get("annotator")
            if author is None and record.get("annotation_id") is None:
                unannotated.append((position, dict(common, status=UNANNOTATED, drafts=None)))
                continue
            if isinstance(author, str):
                candidates = ids_by_email.get(author, [])
                user_id, email = (candidates[0] if len(candidates) == 1 else None), author
            else:
                user_id = _as_user_id(author)
                email = emails.get(user_id)
            base = dict(
                common, annotator_email=email, annotator_user_id=user_id, model=None,
                control=None, to_name=None, kind=None, value=None, start=None, end=None,
                span_text=None, region_id=None,
                annotation_id=record.get("annotation_id"), created_at=record.get("created_at"),
                updated_at=record.get("updated_at"), lead_time=record.get("lead_time"),
            )
            made = []
            for control in sorted(name for name in record if name in controls):
                if control in _JSON_MIN_META:
                    continue
                for value in _json_min_values(controls[control], record[control]):
                    made.extend(_value_rows(controls[control], control, value, base,
                                            "%s, annotation %s" % (where, base["annotation_id"])))
            rows.extend((position, row) for row in (made or [dict(base, kind="none")]))
    return (_ordered(rows, _row_order, ROW_COLUMNS),
            _ordered(unannotated, _task_order, UNANNOTATED_COLUMNS))


def _json_min_values(kind, raw):
    """Undo JSON_MIN's prettifying back into full-export value objects.

    The converter writes one result item's single choice/text as a bare string, one item's several
    choices/texts as {"choices": [...]}/{"text": [...]}, several items as a list of those, and
    spans always as a list of {start, end, text, labels}.
    """
    items = raw if isinstance(raw, list) else [raw]
    values = []
    for item in items:
        if isinstance(item, dict):
            values.append(item)
        elif kind == "choice":
            values.append({"choices": [item]})
        else:
            values.append({"text": [item]})
    return values


def json_min_view(rows, unannotated):
    """What a JSON_MIN export can show of our tables: for comparing with tables_from_json_min().

    Drops skipped rows and skip-only tasks, blanks the drafts count, to_name and region_id.
    """
    return ([dict(row, to_name=None, region_id=None) for row in rows if row["kind"] != "skipped"],
            [dict(task, drafts=None) for task in unannotated if task["status"] == UNANNOTATED])
