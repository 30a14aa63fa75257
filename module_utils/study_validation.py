# -*- coding: utf-8 -*-
"""The assignment sheet checked against the reports and the annotators, before anything is written.

Validation collects every problem at once, and each message names the file, the row as Excel
shows it (header = row 1) and the column (letter and header)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import difflib

from ansible.module_utils.study_names import fold, name_problem, same_ignoring_case
from ansible.module_utils.study_reports import BATCH_FIELD, index_reports, load_reports
from ansible.module_utils.study_sheet import ALL, BATCH_COLUMN, cell_text, read_sheet


def annotator_names(annotators):
    """Names from a list of names or {name, email} dicts, with problems for bad items."""
    names = []
    positions = {}
    problems = []
    for position, item in enumerate(annotators or [], start=1):
        name = item.get("name") if isinstance(item, dict) else item
        name = cell_text(name)
        where = "annotators item %d" % position
        if name is None:
            problems.append("%s: no name" % where)
        elif name.lower() == ALL:
            problems.append("%s: '%s' cannot be an annotator name (in the sheet it means every "
                            "annotator)" % (where, name))
        elif name in names:
            problems.append("%s: %s is listed twice" % (where, name))
        elif name_problem(name, "annotator"):
            problems.append("%s: %s" % (where, name_problem(name, "annotator")))
        else:
            names.append(name)
            positions[name] = position
    for name, earlier in same_ignoring_case(names):
        problems.append("annotators item %d: '%s' differs from '%s' (item %d) only in case (their "
                        "files would be one on a case-insensitive file system)"
                        % (positions[name], name, earlier, positions[earlier]))
    if not annotators:
        problems.append("annotators: the list is empty")
    return names, problems


def closest_name(name, names):
    """The known name a typo most likely meant, or None."""
    lowered = dict((known.lower(), known) for known in names)
    if name.lower() in lowered:
        return lowered[name.lower()]
    matches = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[matches[0]] if matches else None


def compress_rows(numbers):
    """[3, 4, 5, 9] -> '3-5, 9' for messages about many rows."""
    parts = []
    for number in sorted(numbers):
        if parts and parts[-1][1] == number - 1:
            parts[-1][1] = number
        else:
            parts.append([number, number])
    return ", ".join(str(a) if a == b else "%d-%d" % (a, b) for a, b in parts)


def resolve_batches(sheet, batch):
    """The batch names a request means ("all" = every batch in the sheet) and problems."""
    known = sheet.batches()
    if batch is None or not str(batch).strip():
        return [], ["batch: give a batch name from %s, or all" % sheet.path]
    batch = str(batch).strip()
    column = sheet.batch_column.label() if sheet.batch_column else BATCH_COLUMN
    listing = ", ".join(known) if known else "none"
    if batch.lower() == ALL:
        if not known:
            return [], ["%s column %s: no row has a batch" % (sheet.path, column)]
        return known, []
    if batch not in known:
        suggestion = closest_name(batch, known) if known else None
        hint = "did you mean '%s'? " % suggestion if suggestion else ""
        return [], ["%s column %s: no row has batch '%s' (%sbatches in the sheet: %s)"
                    % (sheet.path, column, batch, hint, listing)]
    return [batch], []


def validate_sheet(sheet, reports_by_id, reports_path, names, required_fields):
    """Every problem of the sheet against the reports and annotators, in row order."""
    if sheet.problems:
        return list(sheet.problems)
    problems = []
    first_row = {}
    batch_rows = {}  # batch name as folded -> (name, first row)
    for row in sheet.rows:
        problems.extend(_validate_id(sheet, row, first_row, reports_by_id, reports_path))
        problems.extend(_validate_batch(sheet, row))
        problems.extend(_validate_batch_name(sheet, row, batch_rows))
        problems.extend(_validate_annotators(sheet, row, names))
        if row.batch is not None and row.report_id in reports_by_id and required_fields:
            missing = [field for field in required_fields
                       if reports_by_id[row.report_id].get(field) is None]
            if missing:
                problems.append("%s: report %s (%s) lacks %s, which the label config shows" % (
                    reports_path, row.report_id, sheet.at(row.number),
                    ", ".join("\"%s\"" % field for field in missing)))
    return problems


def _validate_id(sheet, row, first_row, reports_by_id, reports_path):
    where = sheet.at(row.number, sheet.id_column)
    if row.report_id is None:
        return ["%s: the report id is empty" % where]
    if row.report_id in first_row:
        return ["%s: report %s is listed again (first in row %d)"
                % (where, row.report_id, first_row[row.report_id])]
    first_row[row.report_id] = row.number
    if row.report_id not in reports_by_id:
        return ["%s: report %s is not in %s" % (where, row.raw_id, reports_path)]
    return []


def _validate_batch(sheet, row):
    named = [column for column, value in row.cells if value is not None]
    if row.batch is None:
        if named:
            return ["%s: empty, but %s names annotators; give a batch or clear them"
                    % (sheet.at(row.number, sheet.batch_column),
                       " and ".join(c.label() for c in named))]
        return []
    if row.batch.lower() == ALL:
        return ["%s: '%s' cannot be a batch name (batch=all means every batch)"
                % (sheet.at(row.number, sheet.batch_column), row.batch)]
    if not named:
        first, last = sheet.annotator_columns[0], sheet.annotator_columns[-1]
        span = first.label() if first is last else "%s to %s" % (first.label(), last.label())
        return ["%s row %d, columns %s: report %s is in %s but no annotator is named"
                % (sheet.path, row.number, span, row.report_id, row.batch)]
    return []


def _validate_batch_name(sheet, row, batch_rows):
    """The batch name is safe in a file name: reported once, at the first row that has it."""
    if row.batch is None or row.batch.lower() == ALL:
        return []  # no batch, or 'all' (refused by _validate_batch)
    key = fold(row.batch)
    if key in batch_rows:
        name, first = batch_rows[key]
        if name == row.batch:
            return []
        batch_rows[key] = (row.batch, row.number)  # report each spelling once
        return ["%s: batch '%s' differs from '%s' (row %d) only in case (their task files would be "
                "one on a case-insensitive file system)"
                % (sheet.at(row.number, sheet.batch_column), row.batch, name, first)]
    batch_rows[key] = (row.batch, row.number)
    problem = name_problem(row.batch, "batch")
    return ["%s: %s" % (sheet.at(row.number, sheet.batch_column), problem)] if problem else []


def _validate_annotators(sheet, row, names):
    """Unknown names are errors; repeats are only warnings (sheet_warnings), as the original
    study read its sheet: the union of the named annotators, everyone when any cell says all."""
    problems = []
    for column, value in row.cells:
        if value is None or value == ALL or value in names:
            continue
        suggestion = closest_name(value, names)
        hint = ("did you mean '%s'?" % suggestion if suggestion
                else "known annotators: %s" % ", ".join(names))
        problems.append("%s: unknown annotator '%s'; %s" % (sheet.at(row.number, column), value, hint))
    return problems


def sheet_warnings(sheet):
    """Located warnings for annotator cells that repeat someone the row already gives the report.

    The original study's sheet says 'all' in two columns of its batch0/batch1 rows: a repeated
    'all' means nothing more and is not even worth a warning. A name given twice, or next to
    'all', is probably a slip, so it is pointed out, but the report still counts once for them.
    """
    warnings = []
    for row in sheet.rows:
        all_column = next((column for column, value in row.cells if value == ALL), None)
        first = {}  # annotator -> first column naming them
        for column, value in row.cells:
            if value is None or value == ALL:
                continue
            if value in first:
                warnings.append("%s: %s is named twice; the report counts once for them"
                                % (sheet.at(row.number, first[value], column), value))
                continue
            first[value] = column
            if all_column is not None:
                warnings.append("%s: %s is already included by 'all' in column %s; the report "
                                "counts once for them"
                                % (sheet.at(row.number, column), value, all_column.label()))
    return warnings


def load_study(sheet_path, reports_path, annotators, key, required_fields=()):
    """Read and validate everything: (sheet, reports_by_id, names, problems).

    Raises StudyDataError only when a file cannot be read at all.
    """
    names, problems = annotator_names(annotators)
    records = load_reports(reports_path)
    reports_by_id, report_problems = index_reports(records, reports_path, key)
    problems.extend(report_problems)
    sheet = read_sheet(sheet_path)
    # The import adds the key and the batch to every task, so the config may show them.
    required = [field for field in required_fields if field not in (key, BATCH_FIELD)]
    problems.extend(validate_sheet(sheet, reports_by_id, reports_path, names, required))
    return sheet, reports_by_id, names, problems


def format_problems(problems):
    """One message listing every problem, for fail_json."""
    return "%d problem%s in the study data (nothing was written):\n- %s" % (
        len(problems), "" if len(problems) == 1 else "s", "\n- ".join(problems))
