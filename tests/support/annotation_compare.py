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

Written apart from the merge on purpose: nothing here comes from module_utils/annotation_table.py
(its columns, row making, candidate models and order are spelled out again from the table's
documented format, README "The study's data shapes"), so a mistake there is not repeated here.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

# The merged tables' columns, in the order the files have them.
ROW_COLUMNS = ("study_id", "batch", "annotator", "annotator_email", "annotator_user_id", "model",
               "control", "to_name", "kind", "value", "start", "end", "span_text", "region_id",
               "task_id", "annotation_id", "created_at", "updated_at", "lead_time")
UNANNOTATED_COLUMNS = ("study_id", "batch", "annotator", "task_id", "status", "drafts")

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
# The study names a control after the candidate it is about: candidate2-errors,
# errors-candidate1-other; its model is the task's order[i].
_CANDIDATE = re.compile(r"(?:^|-)candidate([0-9]+)(?:-|$)")


def controls_from_label_config(xml_text):
    """{control name: row kind} for the span/choice/text controls of a label config."""
    root = ET.fromstring(xml_text)
    return {element.get("name"): _KIND_OF_TAG[element.tag] for element in root.iter()
            if element.tag in _KIND_OF_TAG and element.get("name")}


def _model(control, order):
    match = _CANDIDATE.search(control)
    if not match or not isinstance(order, list) or int(match.group(1)) >= len(order):
        return None
    return order[int(match.group(1))]


def _value_rows(kind, control, value, base):
    """The rows of one JSON_MIN answer (in the full export's shape, see _json_min_values)."""
    row = dict(base, control=control, kind=kind, model=_model(control, base["order"]),
               start=value.get("start"), end=value.get("end"))
    if kind == "span":
        row["span_text"] = value.get("text")
        return [dict(row, value=label) for label in value.get("labels") or []] or [row]
    if kind == "choice":
        return [dict(row, value=choice) for choice in value.get("choices") or []]
    texts = value.get("text") or []
    return [dict(row, value=text) for text in ([texts] if isinstance(texts, str) else texts)]


def _sort_key(*values):
    """None first, then numbers, then text: report ids may be either."""
    return tuple((0, 0, "") if v is None else (1, v, "") if isinstance(v, (int, float)) else (2, 0, str(v))
                 for v in values)


def tables_from_json_min(exports, controls, emails=None, key="study_id"):
    """(rows, unannotated) from JSON_MIN exports (API or `label-studio export PID JSON_MIN`), in
    the tables' order: annotators as given, then report id, task, annotation, then the answers
    by control, kind, offsets, value.

    exports: list of (annotator name, JSON_MIN records); controls: controls_from_label_config();
    emails: {user id: email}.
    """
    emails = emails or {}
    ids_by_email = {}
    for user_id, email in emails.items():
        ids_by_email.setdefault(email, []).append(user_id)
    rows, unannotated = [], []
    for position, (annotator, records) in enumerate(exports):
        for record in records:
            common = {"study_id": record[key], "batch": record.get("batch"), "annotator": annotator,
                      "task_id": record["id"], "order": record.get("order")}
            author = record.get("annotator")
            if author is None and record.get("annotation_id") is None:
                unannotated.append((_sort_key(position, record[key], record["id"]),
                                    dict(common, status="unannotated", drafts=None)))
                continue
            if isinstance(author, str):  # the CLI names the account by email
                candidates = ids_by_email.get(author, [])
                user_id, email = (candidates[0] if len(candidates) == 1 else None), author
            else:  # the API by user id
                user_id, email = author, emails.get(author)
            base = dict(common, annotator_email=email, annotator_user_id=user_id, model=None,
                        control=None, to_name=None, kind=None, value=None, start=None, end=None,
                        span_text=None, region_id=None, annotation_id=record.get("annotation_id"),
                        created_at=record.get("created_at"), updated_at=record.get("updated_at"),
                        lead_time=record.get("lead_time"))
            made = [row for control in controls if control in record and control not in _JSON_MIN_META
                    for value in _json_min_values(controls[control], record[control])
                    for row in _value_rows(controls[control], control, value, base)]
            for row in made or [dict(base, kind="none")]:
                rows.append((_sort_key(position, row["study_id"], row["task_id"], row["annotation_id"],
                                       row["control"], row["kind"], row["start"], row["end"],
                                       row["value"], row["span_text"]), row))
    return ([{c: row[c] for c in ROW_COLUMNS} for _k, row in sorted(rows, key=lambda item: item[0])],
            [{c: task[c] for c in UNANNOTATED_COLUMNS}
             for _k, task in sorted(unannotated, key=lambda item: item[0])])


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
            [dict(task, drafts=None) for task in unannotated if task["status"] == "unannotated"])
