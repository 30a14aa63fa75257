# -*- coding: utf-8 -*-
"""Turn per-annotator Label Studio exports into one tidy table (pure functions, no server).

Input is Label Studio's full JSON export of each annotator's project, taken with all tasks
(`download_all_tasks=true`, or an export snapshot, whose default is all tasks): a list of tasks,
each `{"id": <task id>, "data": {...}, "annotations": [...], "drafts": [...], ...}`, and each
annotation `{"id", "completed_by": <user id>, "result": [...], "was_cancelled", "created_at",
"updated_at", "lead_time", ...}`. The full format is read rather than JSON_MIN because JSON_MIN
drops skipped annotations (and with them whole skip-only tasks) and cannot tell a single-choice
answer from a text answer without the label config.

The annotator NAME comes from the project the annotation lives in (one project per annotator),
never from the account: one annotator may use two accounts. The report id comes from the task
data field `key` (study_id), never from Label Studio's task id. The model behind an answer about
candidate i (a control named like candidate{i}-..., or ...-candidate{i}-...) is the task data's
order[i]: candidates are shown in a random order per report, so only order says which model
wrote candidate{i}.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

# One row per labelled span / chosen choice / text answer; plus one "none" row for a submitted
# annotation that yields no such row, and one "skipped" row per skipped annotation, so an
# annotation never disappears from the table.
# model: order[i] of the report for the candidate a control is about (None for the others);
# to_name: the object the control points at (for a span, the text it is on: reference{i} or
# candidate{i}); region_id: the result item's id (a span's region id in the labeling UI).
ROW_COLUMNS = (
    "study_id", "batch", "annotator", "annotator_email", "annotator_user_id", "model",
    "control", "to_name", "kind", "value", "start", "end", "span_text", "region_id",
    "task_id", "annotation_id", "created_at", "updated_at", "lead_time",
)

# Tasks of an annotator's project without any submitted annotation ("missing" is not "no errors").
# drafts: how many unsubmitted drafts the task has (the annotator started but did not submit).
UNANNOTATED_COLUMNS = ("study_id", "batch", "annotator", "task_id", "status", "drafts")

UNANNOTATED = "unannotated"
SKIPPED_ONLY = "skipped only"

# Result item type (full JSON) -> row kind.
_KIND_OF_TYPE = {
    "labels": "span",
    "hypertextlabels": "span",
    "paragraphlabels": "span",
    "choices": "choice",
    "textarea": "text",
}
# Links between regions carry no label of their own; JSON_MIN drops them too.
_IGNORED_TYPES = ("relation",)

# The candidate a control is about, by the study's naming: candidate0-labels-omissions,
# candidate2-errors, errors-candidate1-other (duration-minutes and remarks are about none).
_CANDIDATE_OF_CONTROL = re.compile(r"(?:^|-)candidate([0-9]+)(?:-|$)")
# Task data field listing the model of each candidate: order[i] wrote candidate{i}.
ORDER_FIELD = "order"

class AnnotationTableError(ValueError):
    """An export cannot be turned into the table; the message names annotator, task, annotation."""


# ---------------------------------------------------------------------------------------------
# Users


def user_emails(users):
    """{user id: email} from GET /api/users/ (a list of user objects) or an {id: email} mapping.

    JSON object keys are strings, so "7" and 7 both mean user 7.
    """
    emails = {}
    if isinstance(users, dict):
        items = list(users.items())
    elif isinstance(users, list):
        items = []
        for index, user in enumerate(users):
            if not isinstance(user, dict) or "id" not in user or "email" not in user:
                raise AnnotationTableError(
                    "item %d must be an object with \"id\" and \"email\"" % index)
            items.append((user["id"], user["email"]))
    else:
        raise AnnotationTableError(
            "must be a list of {id, email} objects (GET /api/users/) or an {id: email} mapping")
    for user_id, email in items:
        number = _as_user_id(user_id)
        if number is None:
            raise AnnotationTableError("%r is not a user id (an integer)" % (user_id,))
        if email is not None and not isinstance(email, str):
            raise AnnotationTableError("the email of user %d must be a string" % number)
        emails[number] = email or None
    return emails


def _as_user_id(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


# ---------------------------------------------------------------------------------------------
# Full JSON export -> tables


def build_tables(exports, emails, key="study_id"):
    """Rows of the merged table and of the unannotated-task table, both in a fixed order.

    exports: list of (annotator name, full JSON export records), in the order the tables list
    the annotators. emails: {user id: email} (see user_emails). key: the task data field that holds
    the report id. Raises AnnotationTableError for anything it cannot read, before returning
    anything, so a caller writes all or nothing.
    """
    _check_annotators(exports)
    rows = []
    unannotated = []
    for position, (annotator, records) in enumerate(exports):
        if not isinstance(records, list):
            raise AnnotationTableError(
                "%s: the export must be a JSON list of tasks, not %s" % (annotator, type(records).__name__))
        for index, task in enumerate(records):
            task_id, where, data, annotations = _read_task(task, annotator, index)
            study_id = _study_id(data, key, where)
            batch = data.get("batch")
            common = {"study_id": study_id, "batch": batch, "annotator": annotator, "task_id": task_id,
                      "order": data.get(ORDER_FIELD)}
            submitted = 0
            skipped = 0
            for annotation in annotations:
                made = _annotation_rows(annotation, common, emails, where)
                rows.extend((position, row) for row in made)
                if made[0]["kind"] == "skipped":
                    skipped += 1
                else:
                    submitted += 1
            if not submitted:
                drafts = task.get("drafts") or []
                unannotated.append((position, dict(
                    common,
                    status=SKIPPED_ONLY if skipped else UNANNOTATED,
                    drafts=len(drafts) if isinstance(drafts, list) else 0,
                )))
    return (_ordered(rows, _row_order, ROW_COLUMNS),
            _ordered(unannotated, _task_order, UNANNOTATED_COLUMNS))


def unknown_user_ids(rows):
    """User ids in the rows that the users map did not know (the email column is empty)."""
    return sorted({row["annotator_user_id"] for row in rows
                   if row["annotator_user_id"] is not None and not row["annotator_email"]})


def annotator_summary(rows, unannotated):
    """{annotator: counts} for the module's return value (numbers only, no report text)."""
    summary = {}

    def entry(name):
        return summary.setdefault(name, {"rows": 0, "annotations": 0, "skipped": 0, "unannotated_tasks": 0})

    seen = set()
    for row in rows:
        item = entry(row["annotator"])
        item["rows"] += 1
        if (row["annotator"], row["annotation_id"]) in seen:
            continue
        seen.add((row["annotator"], row["annotation_id"]))
        item["skipped" if row["kind"] == "skipped" else "annotations"] += 1
    for task in unannotated:
        entry(task["annotator"])["unannotated_tasks"] += 1
    return summary


def _check_annotators(exports):
    seen = set()
    for annotator, _records in exports:
        if not isinstance(annotator, str) or not annotator.strip():
            raise AnnotationTableError("every export needs an annotator name, got %r" % (annotator,))
        if annotator in seen:
            raise AnnotationTableError("annotator %s is listed twice" % annotator)
        seen.add(annotator)


def _read_task(task, annotator, index):
    """(task id, where, data, annotations) of one full-export task, or a message naming it."""
    if not isinstance(task, dict):
        raise AnnotationTableError("%s: item #%d of the export is not a task object" % (annotator, index))
    task_id = task.get("id")
    if not isinstance(task_id, int) or isinstance(task_id, bool):
        raise AnnotationTableError("%s: item #%d of the export has no task id (\"id\")" % (annotator, index))
    where = "%s: task %d" % (annotator, task_id)
    data = task.get("data")
    annotations = task.get("annotations")
    if not isinstance(data, dict) or not isinstance(annotations, list):
        # JSON_MIN handed in by mistake would otherwise read as "every task unannotated".
        hint = ""
        if "annotation_id" in task or "annotator" in task:
            hint = " (this is a JSON_MIN export; the merge reads the full JSON export)"
        raise AnnotationTableError(
            "%s: not a full JSON export task: needs a \"data\" object and an \"annotations\" list%s"
            % (where, hint))
    return task_id, where, data, annotations


def _study_id(data, key, where):
    value = data.get(key)
    if value is None or value == "" or isinstance(value, (bool, dict, list)):
        raise AnnotationTableError(
            "%s: data field %r (the report id) is missing or empty" % (where, key))
    return value


def _annotation_rows(annotation, common, emails, where):
    if not isinstance(annotation, dict) or not isinstance(annotation.get("id"), int):
        raise AnnotationTableError("%s: an annotation without an id" % where)
    where = "%s, annotation %d" % (where, annotation["id"])
    user_id, email = _author(annotation.get("completed_by"), emails, where)
    base = dict(
        common,
        annotator_email=email,
        annotator_user_id=user_id,
        model=None, control=None, to_name=None, kind=None, value=None, start=None, end=None,
        span_text=None, region_id=None,
        annotation_id=annotation["id"],
        created_at=annotation.get("created_at"),
        updated_at=annotation.get("updated_at"),
        lead_time=annotation.get("lead_time"),
    )
    if annotation.get("was_cancelled"):
        # A skip is not a submission: whatever was drawn before skipping is not an answer.
        return [dict(base, kind="skipped")]
    result = annotation.get("result")
    if result is None:
        result = []
    if not isinstance(result, list):
        raise AnnotationTableError("%s: \"result\" must be a list" % where)
    rows = []
    for position, item in enumerate(result):
        rows.extend(_result_rows(item, base, "%s, result item %d" % (where, position)))
    return rows or [dict(base, kind="none")]


def _author(completed_by, emails, where):
    # The full export gives the user id; some serializer options expand it to a user object.
    if isinstance(completed_by, dict):
        user_id = _as_user_id(completed_by.get("id"))
        email = emails.get(user_id) or completed_by.get("email") or None
        return user_id, email
    user_id = _as_user_id(completed_by)
    if user_id is None:
        raise AnnotationTableError("%s: completed_by %r is not a user id" % (where, completed_by))
    return user_id, emails.get(user_id)


def _result_rows(item, base, where):
    if not isinstance(item, dict):
        raise AnnotationTableError("%s is not an object" % where)
    item_type = str(item.get("type", "")).lower()
    if item_type in _IGNORED_TYPES:
        return []
    kind = _KIND_OF_TYPE.get(item_type)
    control = item.get("from_name")
    if kind is None:
        raise AnnotationTableError(
            "%s (control %r): result type %r is not supported; supported: %s"
            % (where, control, item.get("type"), ", ".join(sorted(_KIND_OF_TYPE))))
    if not isinstance(control, str) or not control:
        raise AnnotationTableError("%s has no from_name" % where)
    value = item.get("value")
    if not isinstance(value, dict):
        raise AnnotationTableError("%s (control %s) has no \"value\" object" % (where, control))
    return _value_rows(kind, control, value, dict(base, to_name=item.get("to_name"),
                                                  region_id=item.get("id")), where)


def candidate_model(control, order):
    """order[i] for a control about candidate i, else None (no candidate, or no such order)."""
    match = _CANDIDATE_OF_CONTROL.search(control)
    if not match or not isinstance(order, list):
        return None
    index = int(match.group(1))
    model = order[index] if index < len(order) else None
    return model if isinstance(model, str) else None


def _value_rows(kind, control, value, base, where):
    """Rows for one region/answer; `value` has the full export's shape."""
    row = dict(base, control=control, kind=kind, model=candidate_model(control, base["order"]),
               start=value.get("start"), end=value.get("end"))
    if kind == "span":
        row["span_text"] = value.get("text")
        labels = _string_list(value.get("labels"), "labels", where, control)
        # A region whose labels were all removed still marks text: keep it with an empty value.
        return [dict(row, value=label) for label in labels] or [row]
    if kind == "choice":
        choices = _string_list(value.get("choices"), "choices", where, control)
        return [dict(row, value=choice) for choice in choices]
    texts = value.get("text")
    if isinstance(texts, str):
        texts = [texts]
    return [dict(row, value=text) for text in _string_list(texts, "text", where, control)]


def _string_list(values, field, where, control):
    if values is None:
        return []
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise AnnotationTableError(
            "%s (control %s): value.%s must be a list of strings" % (where, control, field))
    return values


# ---------------------------------------------------------------------------------------------
# Order: annotators as listed, then report id, task, annotation, then the answers by control.


def _sortable(value):
    # Ids may be numbers or strings; None sorts first; never compare a number with a string.
    if value is None:
        return (0, 0, "")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (1, value, "")
    return (2, 0, str(value))


def _row_order(item):
    position, row = item
    return (position, _sortable(row["study_id"]), row["task_id"], _sortable(row["annotation_id"]),
            _sortable(row["control"]), _sortable(row["kind"]), _sortable(row["start"]),
            _sortable(row["end"]), _sortable(row["value"]), _sortable(row["span_text"]),
            _sortable(row["region_id"]))


def _task_order(item):
    position, task = item
    return (position, _sortable(task["study_id"]), task["task_id"])


def _ordered(items, order, columns):
    # Keys in column order too, so a row reads (and a DataFrame builds) like the table.
    return [dict((column, row[column]) for column in columns)
            for _position, row in sorted(items, key=order)]
