#!/usr/bin/python
# -*- coding: utf-8 -*-
"""Ansible module: the paper's analysis of one day's exports (controller side)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: study_analyze
short_description: Agreement, votes, error tables and checks from the annotators' exports
description:
  - Reads, on the controller, the per-annotator JSON_MIN exports C({date}-{annotator}.json) in
    O(export_dir), the label config, the reports and the assignment sheet, and writes the
    analysis into C({date}-analysis/) in O(export_dir) (mode C(0700), files C(0600)).
  - >-
    Files: C(agreement.csv) (batch, kind, label, pairs, f1), C(errors-exact.csv),
    C(errors-relaxed.csv) and C(errors-majority.csv) (batch, category, model, count, percent),
    C(alpha.csv) (batch, errors, units, alpha), C(groups.csv) (batch, kind, type, groups,
    reports), C(durations.csv), C(annotators.csv), C(completeness.csv), C(problems.csv), all of
    them as sheets of C(analysis.xlsx), and C(report.html), one self-contained page (inline CSS
    and SVG, no script) with the charts and tables.
  - >-
    The definitions (records, groups, span agreement, votes, alpha) are in docs/analysis.md.
    Labels, error choices and the number of candidates are read from O(label_config); any number
    of annotators per report, candidates and models.
  - A file is written (atomically) only when its content differs, so a re-run on the same exports
    changes nothing. Everything is read and checked before the first write.
version_added: "1.0.0"
author:
  - Label Studio study automation (@label-studio-study)
extends_documentation_fragment:
  - study_key
options:
  export_dir:
    description: Directory holding the exports (C(study_export_dir)); the analysis goes in it.
    type: path
    required: true
  date:
    description:
      - The export date C(YYYYMMDD) to analyse. Default the latest date for which an export of
        any annotator exists.
    type: str
  batch:
    description:
      - The batch to analyse. Default every batch of the sheet in which at least two annotators
        share a report.
    type: str
  annotators:
    description: The study's annotators (names, or dicts with C(name)), as C(study_annotators).
    type: list
    elements: raw
    required: true
  label_config:
    description: Path of the label config (XML) the projects use.
    type: path
    required: true
  reports:
    description: Path of the reports file (JSON array of records with an C(id)).
    type: path
    required: true
  assignments:
    description: Path of the assignment sheet (xlsx with C(id), C(batch), C(a1)...).
    type: path
    required: true
  duration_control:
    description: The TextArea holding the minutes spent on a report (its first integer is used).
    type: str
    default: duration-minutes
  show_text:
    description:
      - Put the reports' impression text into C(report.html). Off by default, so that the page
        holds no report text.
    type: bool
    default: false
attributes:
  check_mode:
    description: Reads and analyses everything and says which files would change; writes nothing.
    support: full
  diff_mode:
    description: Not supported; the files' content is not shown.
    support: none
notes:
  - Run it on the controller (delegated to C(localhost)); the xlsx file needs openpyxl there.
  - The module returns counts and paths only, never report text.
seealso:
  - module: study_merge_annotations
"""

EXAMPLES = r"""
- name: Analyse the latest export
  study_analyze:
    export_dir: "{{ study_export_dir }}"
    annotators: "{{ study_annotators }}"
    label_config: "{{ study_label_config }}"
    reports: "{{ study_reports }}"
    assignments: "{{ study_assignments }}"
  delegate_to: localhost
  run_once: true

- name: One batch of one day's export
  study_analyze:
    export_dir: exports
    date: "20261127"
    batch: batch2
    annotators: [annotator1, annotator2, annotator3]
    label_config: files/study/label-config.xml
    reports: files/study/reports.json
    assignments: files/study/assignments.xlsx
  delegate_to: localhost
"""

RETURN = r"""
date:
  description: The export date analysed.
  returned: success
  type: str
  sample: "20261127"
batches:
  description: The batches analysed.
  returned: success
  type: list
  elements: str
  sample: [batch0, batch1]
dir:
  description: The analysis directory.
  returned: success
  type: str
  sample: exports/20261127-analysis
files:
  description: Every file written (or that would be), with whether it changed and its rows.
  returned: success
  type: list
  elements: dict
  sample: [{path: exports/20261127-analysis/agreement.csv, changed: true, rows: 22}]
annotations:
  description: Annotations used (one per annotator and report), per batch.
  returned: success
  type: dict
  sample: {batch0: 60}
reports:
  description: Reports with at least one annotation, per batch.
  returned: success
  type: dict
  sample: {batch0: 10}
problems:
  description: Findings of the checks per check (details with where in problems.csv).
  returned: success
  type: dict
  sample: {"short span": 2, "two annotations by one annotator": 1}
"""

import os
import re

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.label_studio_config import LabelConfigError
from ansible.module_utils.study_analysis_config import read_scheme
from ansible.module_utils.study_analysis_files import csv_bytes, xlsx_bytes
from ansible.module_utils.study_analysis_html import render
from ansible.module_utils.study_analysis_records import RecordError, problem, read_exports
from ansible.module_utils.study_analysis_tables import COLUMNS, analyze, default_batches
from ansible.module_utils.study_assignment_plan import row_annotators
from ansible.module_utils.study_outputs import (InputError, PrivateOutputs, parse_date, read_json,
                                                require_openpyxl)
from ansible.module_utils.study_reports import load_reports
from ansible.module_utils.study_sheet import StudyDataError, normalize_id, read_sheet
from ansible.module_utils.study_validation import annotator_names, format_problems


def latest_date(export_dir, names):
    pattern = re.compile(r"^([0-9]{8})-(.+)\.json$")
    dates = set()
    try:
        entries = os.listdir(export_dir)
    except OSError as err:
        raise InputError("export_dir %s: cannot list it: %s" % (export_dir, err))
    for entry in entries:
        match = pattern.match(entry)
        if match and match.group(2) in names:
            dates.add(match.group(1))
    if not dates:
        raise InputError("%s holds no export {YYYYMMDD}-{annotator}.json of %s; run export.yml first"
                         % (export_dir, ", ".join(names)))
    return max(dates)


def read_assignments(path, names):
    """{batch: {report: [annotators]}} in sheet order (the sheet's own reader, read-only)."""
    sheet = read_sheet(path)
    if sheet.problems:
        raise InputError(format_problems(sheet.problems))
    assigned = {}
    for row in sheet.rows:
        if row.batch is None or row.report_id is None:
            continue
        people = row_annotators(row, names)
        reports = assigned.setdefault(row.batch, {})
        reports.setdefault(row.report_id, [])
        for name in people:
            if name not in reports[row.report_id]:
                reports[row.report_id].append(name)
    return assigned


def prepare(params):
    """Read and check everything; (date, outputs, summary) with outputs [(path, bytes, rows)]."""
    names, problems = annotator_names(params["annotators"])
    if problems:
        raise InputError(format_problems(problems))
    export_dir = params["export_dir"]
    date = params["date"] or latest_date(export_dir, names)
    day = parse_date(date)
    paths = [(name, os.path.join(export_dir, "%s-%s.json" % (date, name))) for name in names]
    missing = [path for _name, path in paths if not os.path.isfile(path)]
    if missing:
        raise InputError("exports of %s missing: %s" % (date, ", ".join(missing)))
    try:
        with open(params["label_config"], "rb") as handle:
            scheme = read_scheme(handle.read().decode("utf-8"), params["label_config"])
    except (IOError, OSError, UnicodeDecodeError) as err:
        raise InputError("label config %s: cannot read it: %s" % (params["label_config"], err))
    exports = []
    for name, path in paths:
        exports.append((name, read_json(path, "%s's export" % name)))
    try:
        annotations, read_problems = read_exports(exports, scheme, params["key"],
                                                  params["duration_control"], dict(paths))
    except RecordError as err:
        raise InputError(str(err))
    records = load_reports(params["reports"])
    if not isinstance(records, list):
        raise InputError("%s: expected a JSON array of report records" % params["reports"])
    texts = dict((normalize_id(r.get("id")), r) for r in records if isinstance(r, dict))
    unknown = sorted(set(str(a["report"]) for a in annotations if a["report"] not in texts))
    for report in unknown:
        read_problems.append(problem("report not in the reports file", "report %s" % report,
                                     "not in %s" % params["reports"]))
    assigned = read_assignments(params["assignments"], names)
    batches = default_batches(assigned)
    if params["batch"]:
        known = list(assigned) + sorted(set(a["batch"] for a in annotations) - set(assigned))
        if params["batch"] not in known:
            raise InputError("batch %s: not in %s nor in the exports (batches: %s)"
                             % (params["batch"], params["assignments"], ", ".join(known) or "none"))
        batches = [params["batch"]]
    if not batches:
        raise InputError("%s: no batch where two annotators share a report; give one with "
                         "batch (-e batch=NAME)" % params["assignments"])
    tables = analyze(annotations, scheme, assigned, batches, read_problems)

    used = [a for a in annotations if a["batch"] in batches]
    summary = {
        "annotations": dict((b, sum(1 for a in used if a["batch"] == b)) for b in batches),
        "reports": dict((b, len(set(a["report"] for a in used if a["batch"] == b))) for b in batches),
        "problems": {},
    }
    for row in tables["problems"]:
        summary["problems"][row["check"]] = summary["problems"].get(row["check"], 0) + 1
    facts = [("export date", date), ("batches", ", ".join(batches)),
             ("exports", ", ".join(os.path.basename(path) for _n, path in paths)),
             ("label config", os.path.basename(params["label_config"])),
             ("assignment sheet", os.path.basename(params["assignments"])),
             ("annotations used (one per annotator and report)",
              ", ".join("%s: %d" % item for item in sorted(summary["annotations"].items()))),
             ("labels", ", ".join(scheme.labels["omissions"] + scheme.labels["additions"])),
             ("errors", ", ".join(scheme.errors)),
             ("checks", ", ".join("%s: %d" % item for item in sorted(summary["problems"].items()))
              or "nothing found")]
    shown = None
    if params["show_text"]:
        shown = sorted(set((a["batch"], a["report"]) for a in used), key=lambda item: (item[0], str(item[1])))
        shown = [(b, r, str(texts.get(r, {}).get("impression", ""))) for b, r in shown]
    target = os.path.join(export_dir, "%s-analysis" % date)
    outputs = []
    for name, rows in tables.items():
        outputs.append((os.path.join(target, name + ".csv"), csv_bytes(COLUMNS[name], rows), len(rows)))
    sheets = [(name, COLUMNS[name], rows) for name, rows in tables.items()]
    outputs.append((os.path.join(target, "analysis.xlsx"), xlsx_bytes(sheets, day),
                    sum(len(rows) for rows in tables.values())))
    page = render("Study analysis, export of %s" % date, facts, batches, tables, COLUMNS, shown)
    outputs.append((os.path.join(target, "report.html"), page.encode("utf-8"), None))
    return date, batches, target, outputs, summary


def main():
    module = AnsibleModule(
        argument_spec=dict(
            export_dir=dict(type="path", required=True),
            date=dict(type="str"),
            batch=dict(type="str"),
            annotators=dict(type="list", elements="raw", required=True),
            label_config=dict(type="path", required=True),
            reports=dict(type="path", required=True),
            assignments=dict(type="path", required=True),
            key=dict(type="str", default="study_id", no_log=False),
            duration_control=dict(type="str", default="duration-minutes"),
            show_text=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    require_openpyxl(module)
    try:
        date, batches, target, outputs, summary = prepare(module.params)
    except (InputError, StudyDataError, LabelConfigError) as err:
        module.fail_json(msg=str(err))

    private = PrivateOutputs(target, [(path, data) for path, data, _rows in outputs])
    changed = private.changed
    if changed and not module.check_mode:
        try:
            private.write()
        except (IOError, OSError) as err:
            module.fail_json(msg="writing %s failed: %s" % (target, err))
    files = [{"path": path, "changed": differs, "rows": rows}
             for (path, _data, rows), differs in zip(outputs, private.differs)]
    module.exit_json(changed=changed, date=date, batches=batches, dir=target, files=files, **summary)


if __name__ == "__main__":
    main()
