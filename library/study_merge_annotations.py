#!/usr/bin/python
# -*- coding: utf-8 -*-
"""Ansible module: every annotator's full JSON export -> one tidy table (controller side)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: study_merge_annotations
short_description: Merge the annotators' Label Studio exports into one tidy table
description:
  - Reads, on the controller, the full JSON export of each annotator's Label Studio project and
    writes into O(dest_dir) C({date}-annotations.csv) and C({date}-annotations.xlsx) (one row per
    labelled span, chosen choice or text answer) and C({date}-unannotated.csv) (the tasks with no
    submitted annotation), so that "not annotated yet" is never mistaken for "no errors found".
  - >-
    Columns of the annotations table: C(study_id) (the report id, read from the task data field
    O(key), never Label Studio's task id), C(batch), C(annotator) (the name given with the
    export, that is the project the annotation lives in, whatever account made it),
    C(annotator_email) and C(annotator_user_id) (the account, from C(completed_by) and O(users)),
    C(model) (for an answer about candidate i, that is a control named C(candidate{i}-...) or
    C(...-candidate{i}-...), the task data's C(order[i]), the model that wrote C(candidate{i});
    empty for the others, such as C(duration-minutes)), C(control) (the control's name, for
    example C(candidate0-labels-omissions)), C(to_name) (the object the control points at; for a
    span, the text it is on, for example C(reference0) or C(candidate0)), C(kind), C(value) (the
    label, choice or text, as the annotation holds it: a Label's or Choice's alias when it has
    one), C(start), C(end), C(span_text) and C(region_id) (for spans; the region id is the result
    item's id), C(task_id), C(annotation_id), C(created_at), C(updated_at) and C(lead_time)
    (seconds).
  - >-
    C(kind) is C(span), C(choice) or C(text); a span with several labels and a multiple choice
    give one row per label or choice. A submitted annotation that yields no such row (nothing
    marked) gives one row of kind C(none); a skipped annotation gives one row of kind C(skipped)
    (what was drawn before skipping is not an answer). Region relations are left out.
  - >-
    Columns of the unannotated table: C(study_id), C(batch), C(annotator), C(task_id),
    C(status) (C(unannotated), or C(skipped only) when every annotation of the task is a skip)
    and C(drafts) (unsubmitted drafts of the task).
  - >-
    Rows are ordered by annotator (in the order of O(exports)), report id, task, annotation, then
    control, so the same exports always give the same bytes. A file is written (atomically, mode
    C(0600)) only when its content differs; the xlsx file carries O(date) as its creation and
    modification time for that reason. All new files are written out before any replaces its
    predecessor, so a failed write leaves the previous set whole.
  - Everything is read and checked before the first write; an unreadable export fails naming the
    file, the task and the annotation, and writes nothing.
  - >-
    With O(bundle) (the one file C(label_studio_export) writes on the node with its own O(bundle)
    option, fetched), the exports and the accounts come from that file, each read once, and each
    annotator's export as Label Studio sent it is written to O(dest_dir) too, as
    C({date}-{annotator}.json), staged with the tables (mode C(0600), only when it differs).
version_added: "1.0.0"
author:
  - Label Studio study automation (@label-studio-study)
extends_documentation_fragment:
  - study_key
options:
  exports:
    description:
      - One item per annotator, in the order the tables list them.
      - Each export must be a full JSON export (C(exportType=JSON)) that includes unannotated
        tasks (C(download_all_tasks=true), or an export snapshot); tasks left out of the export
        cannot be listed as unannotated. JSON_MIN is refused.
      - Mutually exclusive with O(bundle); required without it.
    type: list
    elements: dict
    suboptions:
      annotator:
        description: The annotator's name (the project title without the study prefix).
        type: str
        required: true
      path:
        description: Path of the full JSON export of that annotator's project.
        type: path
        required: true
  users:
    description:
      - Label Studio's users, to put the account's email beside its user id.
      - A path of a JSON file, or the value itself, either as returned by C(GET /api/users/) (a
        list of objects with C(id) and C(email)) or as a mapping of user id to email.
      - An id missing from it leaves C(annotator_email) empty and is listed in RV(unknown_user_ids).
      - Required with O(exports); with O(bundle) the accounts come from the bundle.
    type: raw
  bundle:
    description:
      - Path of a bundle written by C(label_studio_export) (O(label_studio_export#module:bundle)),
        holding every annotator's export, full export and the accounts. Mutually exclusive with
        O(exports) and O(users).
    type: path
  dest_dir:
    description:
      - Directory for the three files. Created with mode C(0700) if missing.
    type: path
    required: true
  date:
    description:
      - The export date as C(YYYYMMDD); it prefixes the file names, as the per-annotator exports.
    type: str
    required: true
attributes:
  check_mode:
    description: Reads and checks everything and reports which files would change; writes nothing.
    support: full
  diff_mode:
    description: >-
      Shows, per file that would change, its size and row count before and after, not the
      content (span text and remarks are report text).
    support: partial
notes:
  - Run it on the controller (delegated to C(localhost)); the xlsx file needs the Python package
    openpyxl there.
  - The CSV is UTF-8 without a byte order mark, for analysis code; open the xlsx file in Excel.
  - The module returns counts only, never report text.
seealso:
  - module: label_studio_export
"""

EXAMPLES = r"""
- name: Merge the exports fetched today
  study_merge_annotations:
    exports:
      - {annotator: annotator1, path: "{{ study_export_dir }}/.full/20261127-annotator1.json"}
      - {annotator: annotator2, path: "{{ study_export_dir }}/.full/20261127-annotator2.json"}
    users: "{{ study_export_dir }}/.full/20261127-users.json"
    dest_dir: "{{ study_export_dir }}"
    date: "20261127"
  delegate_to: localhost
  run_once: true
  register: study_merged

- name: Same, with the user map given inline
  study_merge_annotations:
    exports: "{{ study_full_exports }}"
    users: {1: admin@example.org, 7: annotator1@example.org}
    dest_dir: exports
    date: "{{ '%Y%m%d' | strftime }}"
  delegate_to: localhost
"""

RETURN = r"""
files:
  description: The files written (or that would be), each with whether it changed.
  returned: success
  type: list
  elements: dict
  sample:
    - {path: exports/20261127-annotations.csv, changed: true, rows: 412}
    - {path: exports/20261127-annotations.xlsx, changed: true, rows: 412}
    - {path: exports/20261127-unannotated.csv, changed: false, rows: 9}
rows:
  description: Rows of the annotations table.
  returned: success
  type: int
  sample: 412
unannotated:
  description: Tasks without a submitted annotation (rows of the unannotated table).
  returned: success
  type: int
  sample: 9
annotators:
  description: Per annotator, table rows, submitted and skipped annotations, unannotated tasks.
  returned: success
  type: dict
  sample: {annotator1: {rows: 230, annotations: 60, skipped: 1, unannotated_tasks: 0}}
unknown_user_ids:
  description: User ids in C(completed_by) that O(users) does not know (their email is empty).
  returned: success
  type: list
  elements: int
  sample: []
"""

import csv
import os

from ansible.module_utils.annotation_table import (
    ROW_COLUMNS, UNANNOTATED_COLUMNS, AnnotationTableError, annotator_summary, build_tables,
    unknown_user_ids, user_emails)
from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.study_names import path_inside
from ansible.module_utils.study_outputs import (InputError, PrivateOutputs, parse_date, read_json,
                                                require_openpyxl)
from ansible.module_utils.table_files import csv_bytes, xlsx_bytes


def load_users(users):
    if isinstance(users, str):
        value = read_json(users, "users file")
        where = "users file %s" % users
    else:
        value = users
        where = "users"
    try:
        return user_emails(value)
    except AnnotationTableError as err:
        raise InputError("%s: %s" % (where, err))


def load_exports(items, key):
    """[(annotator, records)], each export read and checked on its own so errors name the file."""
    loaded = []
    for item in items:
        records = read_json(item["path"], "%s's export" % item["annotator"])
        try:
            build_tables([(item["annotator"], records)], {}, key=key)
        except AnnotationTableError as err:
            raise InputError("%s: %s" % (item["path"], err))
        loaded.append((item["annotator"], records))
    return loaded


def load_bundle(path, dest_dir, date):
    """([(annotator, full export)], emails, [(path, per-annotator export bytes)]) from one read."""
    bundle = read_json(path, "bundle")
    items = bundle.get("exports") if isinstance(bundle, dict) else None
    if not isinstance(items, list) or not all(
            isinstance(item, dict) and isinstance(item.get("name"), str)
            and isinstance(item.get("file"), str) for item in items):
        raise InputError("bundle %s: not a bundle written by label_studio_export" % path)
    try:
        emails = user_emails(bundle.get("users") or [])
    except AnnotationTableError as err:
        raise InputError("bundle %s, users: %s" % (path, err))
    exports = [(item["name"], item.get("full")) for item in items]
    try:
        files = [(path_inside(dest_dir, "%s-%s.json" % (date, item["name"])),
                  item["file"].encode("utf-8")) for item in items]
    except ValueError as err:
        raise InputError("bundle %s: %s" % (path, err))
    return exports, emails, files


def describe(size, rows):
    """One diff line: a file's size and, when known, its row count (never its content)."""
    return "%d bytes%s\n" % (size, "" if rows is None else ", %d rows" % rows)


def existing_rows(path, is_csv):
    """Rows in an existing CSV table, for the diff (None for xlsx or when unreadable)."""
    if not is_csv:
        return None
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            return max(sum(1 for _row in csv.reader(handle)) - 1, 0)
    except (IOError, OSError, ValueError):
        return None


def main():
    module = AnsibleModule(
        argument_spec=dict(
            exports=dict(type="list", elements="dict", options=dict(
                annotator=dict(type="str", required=True),
                path=dict(type="path", required=True),
            )),
            users=dict(type="raw"),
            bundle=dict(type="path"),
            dest_dir=dict(type="path", required=True),
            date=dict(type="str", required=True),
            key=dict(type="str", default="study_id", no_log=False),
        ),
        supports_check_mode=True,
        mutually_exclusive=[("bundle", "exports"), ("bundle", "users")],
        required_one_of=[("bundle", "exports")],
        required_together=[("exports", "users")],
    )
    require_openpyxl(module)
    params = module.params

    # Read and check everything before the first write.
    try:
        day = parse_date(params["date"])
        copies = []
        if params["bundle"]:
            exports, emails, copies = load_bundle(params["bundle"], params["dest_dir"], params["date"])
            if not exports:
                raise InputError("bundle %s holds no export: there is nothing to merge" % params["bundle"])
            # One pass over every export: its errors name the annotator, task and annotation.
            rows, unannotated = build_tables(exports, emails, key=params["key"])
        else:
            if not params["exports"]:
                raise InputError("exports is empty: there is nothing to merge")
            emails = load_users(params["users"])
            exports = load_exports(params["exports"], params["key"])
            rows, unannotated = build_tables(exports, emails, key=params["key"])
    except InputError as err:
        module.fail_json(msg=str(err))
    except AnnotationTableError as err:
        module.fail_json(msg=str(err))

    dest_dir = params["dest_dir"]
    prefix = os.path.join(dest_dir, params["date"])
    outputs = [(path, content, None, False) for path, content in copies] + [
        (prefix + "-annotations.csv", csv_bytes(ROW_COLUMNS, rows), len(rows), True),
        (prefix + "-annotations.xlsx", xlsx_bytes(ROW_COLUMNS, rows, "annotations", day), len(rows), False),
        (prefix + "-unannotated.csv", csv_bytes(UNANNOTATED_COLUMNS, unannotated), len(unannotated), True),
    ]

    private = PrivateOutputs(dest_dir, [(path, content) for path, content, _c, _i in outputs])
    files = []
    diffs = []
    for (path, content, count, is_csv), differs in zip(outputs, private.differs):
        files.append({"path": path, "changed": differs, "rows": count})
        if differs and module._diff:
            before = ""
            if os.path.isfile(path):
                before = describe(os.path.getsize(path), existing_rows(path, is_csv))
            diffs.append({
                "before_header": path, "after_header": path,
                "before": before,
                "after": describe(len(content), count),
            })
    changed = private.changed

    if changed and not module.check_mode:
        try:
            # All three are staged before any is replaced: a failure leaves the old set whole.
            for item, flag in zip(files, private.write()):
                item["changed"] = flag
        except (IOError, OSError) as err:
            module.fail_json(msg="writing %s failed: %s" % (dest_dir, err), files=files)

    result = dict(
        changed=changed,
        files=files,
        rows=len(rows),
        unannotated=len(unannotated),
        annotators=annotator_summary(rows, unannotated),
        unknown_user_ids=unknown_user_ids(rows),
    )
    if module._diff:
        result["diff"] = diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()
