# -*- coding: utf-8 -*-
"""Analysis tables -> CSV and one multi-sheet XLSX, the same bytes for the same rows.

The writing itself is module_utils/table_files.py's (formula neutralization, pinned times); the
analysis only spells its values: booleans as true/false, floats at full precision.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.table_files import csv_bytes as table_csv_bytes
from ansible.module_utils.table_files import csv_cell, workbook_bytes


def _spelled(value):
    """The analysis's spelling of a value: booleans as true/false; numbers stay numbers (the CSV
    writes floats at full precision), other objects become their text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None or isinstance(value, (int, float, str)):
        return value
    return str(value)


def safe_cell(value):
    """CSV cell text; text that would start a formula gets a leading ' (numbers stay numbers)."""
    cell = csv_cell(_spelled(value))
    return repr(cell) if isinstance(cell, float) else str(cell)


def csv_bytes(columns, rows):
    """UTF-8 CSV (comma, double quotes, CRLF), no byte order mark, formulas neutralized."""
    return table_csv_bytes(columns, [{column: _spelled(row.get(column)) for column in columns}
                                     for row in rows])


def xlsx_bytes(sheets, stamp):
    """One workbook, a sheet per (title, columns, rows); `stamp` (a date) is its only time."""
    return workbook_bytes(sheets, stamp, creator="study_analyze")
