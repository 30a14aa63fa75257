# -*- coding: utf-8 -*-
"""Analysis tables -> CSV and one multi-sheet XLSX, the same bytes for the same rows."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import csv
import datetime
import io
import re
import zipfile

# A cell starting with one of these is a formula to Excel/LibreOffice when the CSV is opened.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_ILLEGAL_XML = re.compile(u"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def safe_cell(value):
    """CSV cell text; text that would start a formula gets a leading ' (numbers stay numbers)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value) if isinstance(value, float) else str(value)
    text = str(value)
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


def csv_bytes(columns, rows):
    """UTF-8 CSV (comma, double quotes, CRLF), no byte order mark."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([safe_cell(row.get(column)) for column in columns])
    return buffer.getvalue().encode("utf-8")


def xlsx_bytes(sheets, stamp):
    """One workbook, a sheet per (title, columns, rows); `stamp` (a date) is its only time.

    openpyxl writes the current time into docProps/core.xml and every zip entry, so the times
    are pinned to keep identical tables identical bytes.
    """
    from openpyxl import Workbook
    from openpyxl.writer.excel import ExcelWriter

    moment = datetime.datetime(stamp.year, stamp.month, stamp.day)
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, columns, rows in sheets:
        sheet = workbook.create_sheet(title[:31])
        sheet.append(list(columns))
        for row in rows:
            sheet.append([_xlsx_value(row.get(column)) for column in columns])
        for cells in sheet.iter_rows(min_row=2):
            for cell in cells:
                if cell.data_type == "f":
                    cell.data_type = "s"  # text, never a formula that runs when opened
        sheet.freeze_panes = "A2"
    workbook.properties.creator = "study_analyze"
    workbook.properties.created = moment
    workbook.properties.modified = moment
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(workbook, archive).write_data()
    source = zipfile.ZipFile(io.BytesIO(raw.getvalue()))
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            info = zipfile.ZipInfo(entry.filename, date_time=moment.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            target.writestr(info, source.read(entry.filename))
    return output.getvalue()


def _xlsx_value(value):
    if isinstance(value, str):
        return _ILLEGAL_XML.sub(u"\ufffd", value)
    return value
