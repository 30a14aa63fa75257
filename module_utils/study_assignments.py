# -*- coding: utf-8 -*-
"""The assignment sheet and reports.json: read, validate, and cut into per-annotator tasks.

Pure functions (files in, plain data out) so every rule is unit-tested without Ansible or a
server. Validation collects every problem before anything is written, and each message names
the file, the row as Excel shows it (header = row 1) and the column (letter and header).
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import difflib
import json
import re

from ansible.module_utils.study_names import fold, name_problem, path_inside, same_ignoring_case

ID_COLUMN = "id"
BATCH_COLUMN = "batch"
# a1, a2, ... aN: any number of annotator columns.
ANNOTATOR_COLUMN = re.compile(r"^a([1-9][0-9]*)$")
# In an annotator cell: every annotator of the study.
ALL = "all"
HEADER_ROW = 1
# Task data fields the import adds to each report record (besides the key, e.g. study_id).
BATCH_FIELD = "batch"


class StudyDataError(Exception):
    """A study file cannot be read at all (missing, not xlsx/JSON); the message names it."""


class Column:
    """A sheet column: its header text, Excel letter and 1-based index."""

    def __init__(self, name, letter, index):
        self.name = name
        self.letter = letter
        self.index = index

    def label(self):
        return "%s (%s)" % (self.letter, self.name)

    def __repr__(self):
        return "Column(%r, %r)" % (self.name, self.letter)


class SheetRow:
    """One data row: Excel row number, raw and normalized id, batch, annotator cells."""

    def __init__(self, number, raw_id, report_id, batch, cells):
        self.number = number
        self.raw_id = raw_id
        self.report_id = report_id
        self.batch = batch
        # [(Column, "name" | "all" | None)] in a1..aN order
        self.cells = cells

    def annotator_values(self):
        return [value for _column, value in self.cells if value is not None]


class Sheet:
    """The assignment sheet as read: columns, data rows (empty rows skipped), header problems."""

    def __init__(self, path, id_column, batch_column, annotator_columns, rows, last_row,
                 last_column, problems):
        self.path = path
        self.id_column = id_column
        self.batch_column = batch_column
        self.annotator_columns = annotator_columns
        self.rows = rows
        # Last row/column holding any value at all (appended rows go below, new columns right).
        self.last_row = last_row
        self.last_column = last_column
        self.problems = problems

    def at(self, row, *columns):
        """'assignments.xlsx row 7, column C (a1)' for messages."""
        where = "%s row %d" % (self.path, row)
        if len(columns) == 1:
            where += ", column %s" % columns[0].label()
        elif columns:
            where += ", columns %s and %s" % (
                ", ".join(c.label() for c in columns[:-1]), columns[-1].label())
        return where

    def batches(self):
        """Batch names in the order they first appear."""
        seen = []
        for row in self.rows:
            if row.batch is not None and row.batch not in seen:
                seen.append(row.batch)
        return seen


def normalize_id(value):
    """One form for ids from Excel and JSON: 50848467, 50848467.0 and "50848467" are equal."""
    if isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if re.match(r"^[0-9]+$", text):
            return int(text)
        return text or None
    return value


def _cell_text(value):
    """A batch or annotator cell as text, None when empty (numbers as Excel shows them)."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def read_sheet(path):
    """Read the first worksheet of an xlsx file into a Sheet.

    Raises StudyDataError when the file cannot be opened; problems with its columns are in
    Sheet.problems so they are reported together with everything else.
    """
    try:
        from openpyxl import load_workbook
        from openpyxl.utils import get_column_letter
    except ImportError:
        raise StudyDataError("reading %s needs the Python package openpyxl on the controller" % path)
    try:
        # read_only streams rows (big sheets); data_only gives formulas' values.
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as err:  # openpyxl raises many kinds (zip, xml, key, OSError)
        raise StudyDataError("cannot read %s as an xlsx workbook: %s" % (path, err))
    try:
        worksheet = workbook.worksheets[0]
        rows = [(number, list(values)) for number, values in
                enumerate(worksheet.iter_rows(values_only=True), start=1)]
    finally:
        workbook.close()
    return parse_sheet_rows(path, rows, get_column_letter)


def parse_sheet_rows(path, rows, column_letter):
    """Build a Sheet from [(excel_row, [cell values])]; header in row 1."""
    header = rows[0][1] if rows and rows[0][0] == HEADER_ROW else []
    problems = []
    id_column = batch_column = None
    numbered = []
    seen = {}
    for index, value in enumerate(header, start=1):
        name = _cell_text(value)
        if name is None:
            continue
        column = Column(name, column_letter(index), index)
        key = name.lower()
        if key in seen:
            problems.append("%s: column %s appears twice (also column %s)" % (
                _header_at(path, column), name, seen[key].letter))
            continue
        seen[key] = column
        if key == ID_COLUMN:
            id_column = column
        elif key == BATCH_COLUMN:
            batch_column = column
        else:
            match = ANNOTATOR_COLUMN.match(key)
            if match:
                numbered.append((int(match.group(1)), column))
    annotator_columns = [column for _n, column in sorted(numbered, key=lambda item: item[0])]
    for name, column in ((ID_COLUMN, id_column), (BATCH_COLUMN, batch_column)):
        if column is None:
            problems.append("%s row %d: missing column '%s' (the header row must name id, batch, "
                            "a1, a2, ...)" % (path, HEADER_ROW, name))
    if not annotator_columns:
        problems.append("%s row %d: no annotator columns (a1, a2, ...)" % (path, HEADER_ROW))

    last_row = 0
    last_column = 0
    for number, values in rows:
        used = [index for index, value in enumerate(values, start=1) if _cell_text(value) is not None]
        if used:
            last_row = max(last_row, number)
            last_column = max(last_column, used[-1])

    data_rows = []
    if not problems:
        def cell(values, column):
            return values[column.index - 1] if column.index <= len(values) else None

        for number, values in rows:
            if number <= HEADER_ROW:
                continue
            raw_id = cell(values, id_column)
            batch = _cell_text(cell(values, batch_column))
            cells = [(column, _annotator_value(cell(values, column))) for column in annotator_columns]
            if _cell_text(raw_id) is None and batch is None and not any(v for _c, v in cells):
                continue  # empty (maybe formatted) row
            data_rows.append(SheetRow(number, raw_id, normalize_id(raw_id), batch, cells))
    return Sheet(path, id_column, batch_column, annotator_columns, data_rows, last_row,
                 last_column, problems)


def _header_at(path, column):
    """Location of a header cell, before a Sheet exists."""
    return "%s row %d, column %s" % (path, HEADER_ROW, column.label())


def _annotator_value(value):
    text = _cell_text(value)
    if text is not None and text.lower() == ALL:
        return ALL
    return text


def load_reports(path):
    """Parse reports.json (a JSON array of records). Raises StudyDataError if unreadable."""
    try:
        with open(path, "rb") as handle:
            return json.loads(handle.read().decode("utf-8"))
    except (IOError, OSError) as err:
        raise StudyDataError("cannot read %s: %s" % (path, err))
    except ValueError as err:
        raise StudyDataError("%s is not valid JSON: %s" % (path, err))


def index_reports(records, path, key):
    """Map normalized id -> record, in the file's order; problems name records by position."""
    problems = []
    by_id = {}
    if not isinstance(records, list):
        return by_id, ["%s: expected a JSON array of report records, found %s"
                       % (path, type(records).__name__)]
    for position, record in enumerate(records, start=1):
        where = "%s record %d" % (path, position)
        if not isinstance(record, dict):
            problems.append("%s: expected an object, found %s" % (where, type(record).__name__))
            continue
        report_id = normalize_id(record.get("id"))
        if report_id is None:
            problems.append("%s: no \"id\"" % where)
            continue
        where = "%s record %d (id %s)" % (path, position, report_id)
        if report_id in by_id:
            problems.append("%s: id appears again (first in record %d)"
                            % (where, by_id[report_id][0]))
            continue
        for reserved, purpose in ((key, "the report id"), (BATCH_FIELD, "the batch name")):
            if reserved in record:
                problems.append("%s: has a field \"%s\", which the task data uses for %s"
                                % (where, reserved, purpose))
        by_id[report_id] = (position, record)
    return {report_id: record for report_id, (_pos, record) in by_id.items()}, problems


def annotator_names(annotators):
    """Names from a list of names or {name, email} dicts, with problems for bad items."""
    names = []
    positions = {}
    problems = []
    for position, item in enumerate(annotators or [], start=1):
        name = item.get("name") if isinstance(item, dict) else item
        name = _cell_text(name)
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


def row_annotators(row, names):
    """The annotators a (valid) row gives its report to, in the study's annotator order."""
    values = row.annotator_values()
    if ALL in values:
        return list(names)
    return [name for name in names if name in values]


def make_task(record, report_id, batch, key):
    """Task data: the report without "id" (Label Studio overwrites it), plus key and batch."""
    task = {key: report_id, BATCH_FIELD: batch}
    for field, value in record.items():
        if field != "id":
            task[field] = value
    return task


def plan_tasks(sheet, reports_by_id, names, batches, key):
    """{batch: {annotator: [task, ...]}} in sheet order, every annotator present (maybe [])."""
    plan = dict((batch, dict((name, []) for name in names)) for batch in batches)
    for row in sheet.rows:
        if row.batch not in plan:
            continue
        task = make_task(reports_by_id[row.report_id], row.report_id, row.batch, key)
        for name in row_annotators(row, names):
            plan[row.batch][name].append(task)
    return plan


def tasks_by_annotator(plan, names, batches):
    """{annotator: [tasks of every requested batch, batch by batch]}."""
    return dict((name, [task for batch in batches for task in plan[batch][name]]) for name in names)


def task_counts(plan):
    """{batch: {annotator: number of tasks}}."""
    return dict((batch, dict((name, len(tasks)) for name, tasks in per_name.items()))
                for batch, per_name in plan.items())


def task_file_name(batch, annotator):
    """The original study's file name for one batch of one annotator."""
    return "%s-%s-tasks.json" % (batch, annotator)


def task_file_path(directory, batch, annotator):
    """directory/{batch}-{annotator}-tasks.json; raises ValueError should it leave directory."""
    return path_inside(directory, task_file_name(batch, annotator))


def task_file_clashes(batches, names):
    """Problems for (batch, annotator) pairs whose task files would be one and the same.

    'a-b' + 'c' and 'a' + 'b-c' both give a-b-c-tasks.json (and names equal ignoring case give
    one file on a case-insensitive file system).
    """
    first = {}
    problems = []
    for batch in batches:
        for name in names:
            key = fold(task_file_name(batch, name))
            if key in first:
                problems.append("batch '%s' of annotator '%s' and batch '%s' of annotator '%s' "
                                "would share the task file %s; rename a batch or an annotator"
                                % (batch, name, first[key][0], first[key][1],
                                   task_file_name(batch, name)))
            else:
                first[key] = (batch, name)
    return problems


def render_task_file(tasks):
    """File content for a task list: stable, readable, UTF-8 text kept as is."""
    return json.dumps(tasks, indent=2, ensure_ascii=False) + "\n"


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
