# -*- coding: utf-8 -*-
"""The assignment sheet as read from its xlsx file: columns found by header, data rows.

Reading only: the rules the rows must follow are in study_validation.py. Pure functions
(a file in, plain data out), unit-tested without Ansible."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible.module_utils.xlsx_rows import UnusualSheet, column_letter, xlsx_rows


ID_COLUMN = "id"
BATCH_COLUMN = "batch"
# a1, a2, ... aN: any number of annotator columns.
ANNOTATOR_COLUMN = re.compile(r"^a([1-9][0-9]*)$")
# In an annotator cell: every annotator of the study.
ALL = "all"
HEADER_ROW = 1


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


def cell_text(value):
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
    # The plain sheets the study uses are read straight from the file's XML (xlsx_rows: ~10x
    # faster); anything else (a date or custom number format, another cell type, a file that
    # is not a plain workbook) goes to openpyxl, which reads and explains every case.
    try:
        return parse_sheet_rows(path, xlsx_rows(path), column_letter)
    except UnusualSheet:
        pass
    try:
        from openpyxl import load_workbook
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
    return parse_sheet_rows(path, rows, column_letter)


def parse_sheet_rows(path, rows, column_letter):
    """Build a Sheet from [(excel_row, [cell values])]; header in row 1."""
    header = rows[0][1] if rows and rows[0][0] == HEADER_ROW else []
    problems = []
    id_column = batch_column = None
    numbered = []
    seen = {}
    for index, value in enumerate(header, start=1):
        name = cell_text(value)
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
        used = [index for index, value in enumerate(values, start=1) if cell_text(value) is not None]
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
            batch = cell_text(cell(values, batch_column))
            cells = [(column, _annotator_value(cell(values, column))) for column in annotator_columns]
            if cell_text(raw_id) is None and batch is None and not any(v for _c, v in cells):
                continue  # empty (maybe formatted) row
            data_rows.append(SheetRow(number, raw_id, normalize_id(raw_id), batch, cells))
    return Sheet(path, id_column, batch_column, annotator_columns, data_rows, last_row,
                 last_column, problems)


def _header_at(path, column):
    """Location of a header cell, before a Sheet exists."""
    return "%s row %d, column %s" % (path, HEADER_ROW, column.label())


def _annotator_value(value):
    text = cell_text(value)
    if text is not None and text.lower() == ALL:
        return ALL
    return text
