#!/usr/bin/python
# -*- coding: utf-8 -*-
"""Ansible module: add a balanced batch to the assignment sheet (controller side)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: study_generate_assignments
short_description: Add a balanced batch of assignments to the study's assignment sheet
description:
  - Picks O(size) reports that are in no batch yet (in O(reports) and either missing from the
    sheet or listed with an empty C(batch) cell), gives each to O(per_report) distinct
    annotators so that every annotator's number of reports in the batch differs by at most one,
    and writes the new batch into the sheet.
  - Deterministic, the same O(seed), sheet and reports always give the same rows.
  - Writes only the new batch's cells. Rows already listing a picked report get their C(batch)
    and C(a) cells filled in place; other picked reports are appended below the last used row,
    styled like the row above. If O(per_report) exceeds the sheet's C(a) columns, new C(a)
    columns are added right of the last used column. Existing rows, columns and formatting are
    left as they are. The previous sheet is kept next to it as
    C(<name>.backup-<YYYYmmdd-HHMMSS>.xlsx) (mode C(0600)), and the sheet is replaced atomically.
  - Refuses a batch name that is already in the sheet, so a second run with the same batch
    fails instead of adding more rows; to redo a batch, restore the backup or clear its cells.
  - Validates the whole sheet first (as M(study_batch_tasks) does, without the label config)
    and reports every problem at once; writes nothing if there is any.
  - Run it on the controller; it needs the Python package openpyxl there.
version_added: "1.0.0"
author:
  - Label Studio study automation (@label-studio-study)
options:
  assignments:
    description:
      - Path of the assignment sheet (xlsx); its first worksheet, row 1 the header with C(id),
        C(batch), C(a1) .. C(aN).
    type: path
    required: true
  reports:
    description:
      - Path of the report records, a JSON array of objects with an C(id). Picked reports that
        the sheet does not list yet are appended in this file's order.
    type: path
    required: true
  annotators:
    description:
      - The study's annotators, each a name or a dict with C(name).
    type: list
    elements: raw
    required: true
  batch:
    description:
      - Name of the new batch. Must not be in the sheet yet, and must not be C(all).
    type: str
    required: true
  size:
    description:
      - Number of reports in the batch.
    type: int
    required: true
  per_report:
    description:
      - Number of distinct annotators per report, between 1 and the number of annotators.
    type: int
    required: true
  seed:
    description:
      - Seed for picking reports and annotators. Defaults to the batch name, so a batch is
        reproducible even without one.
    type: str
  key:
    description:
      - Task data field that carries the report id; reports must not have a field of that name.
    type: str
    default: study_id
attributes:
  check_mode:
    description: Computes the batch and returns its rows and counts; writes neither sheet nor backup.
    support: full
  diff_mode:
    description: Shows the rows that are (or would be) written, one line each.
    support: full
notes:
  - openpyxl keeps cell values, styles, column widths, merged cells, freeze panes and formulas,
    but drops what it does not support (for example charts and images). The backup keeps the
    sheet exactly as it was.
seealso:
  - module: study_batch_tasks
"""

EXAMPLES = r"""
- name: Add batch3, 100 reports, 3 annotators each
  study_generate_assignments:
    assignments: "{{ study_assignments }}"
    reports: "{{ study_reports }}"
    annotators: "{{ study_annotators }}"
    batch: batch3
    size: 100
    per_report: 3
    seed: "42"
  delegate_to: localhost
  register: generated
"""

RETURN = r"""
batch:
  description: The new batch's name.
  returned: success
  type: str
  sample: batch3
counts:
  description: Number of reports each annotator gets in the new batch.
  returned: success
  type: dict
  sample: {annotator1: 50, annotator2: 50, annotator3: 50, annotator4: 50, annotator5: 50, annotator6: 50}
rows:
  description:
    - The rows written (or, in check mode, that would be), in sheet order. C(row) is the row as
      Excel shows it; C(appended) is false for a report already listed with an empty batch.
  returned: success
  type: list
  elements: dict
  sample:
    - {row: 22, id: 50000021, batch: batch3, annotators: [annotator1, annotator5, annotator6],
       appended: false}
new_columns:
  description: Annotator columns added to the header because O(per_report) needed them.
  returned: success
  type: list
  elements: dict
  sample: [{column: F, index: 6, name: a4}]
backup:
  description: Path of the copy of the previous sheet; null in check mode.
  returned: success
  type: str
  sample: files/study/assignments.backup-20250101-120000.xlsx
seed:
  description: The seed used.
  returned: success
  type: str
  sample: "42"
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.study_sheet import StudyDataError
from ansible.module_utils.study_validation import format_problems, load_study
from ansible.module_utils.study_batch_generator import (
    SheetChangedError, plan_generated_batch, write_generated_batch)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            assignments=dict(type="path", required=True),
            reports=dict(type="path", required=True),
            annotators=dict(type="list", elements="raw", required=True),
            batch=dict(type="str", required=True),
            size=dict(type="int", required=True),
            per_report=dict(type="int", required=True),
            seed=dict(type="str"),
            key=dict(type="str", default="study_id", no_log=False),
        ),
        supports_check_mode=True,
    )
    params = module.params
    seed = params["seed"] if params["seed"] is not None else params["batch"]
    path = params["assignments"]

    try:
        sheet, reports_by_id, names, problems = load_study(
            path, params["reports"], params["annotators"], params["key"])
    except StudyDataError as err:
        module.fail_json(msg=str(err))
    if problems:
        module.fail_json(msg=format_problems(problems))

    # reports_by_id keeps reports.json's order, so new rows come in that order.
    generated, problems = plan_generated_batch(sheet, list(reports_by_id), names, params["batch"],
                                               params["size"], params["per_report"], seed)
    if problems:
        module.fail_json(msg=format_problems(problems))

    backup = None
    if not module.check_mode:
        try:
            backup = write_generated_batch(path, generated)
        except SheetChangedError as err:
            module.fail_json(msg="%s: %s" % (path, err))
    result = dict(changed=True, batch=generated.batch, counts=generated.counts,
                  rows=generated.rows, new_columns=generated.new_columns, backup=backup, seed=seed)
    if module._diff:
        result["diff"] = {"before": "", "after": generated.describe(),
                          "before_header": path, "after_header": path}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
