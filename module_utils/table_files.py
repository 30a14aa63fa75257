# -*- coding: utf-8 -*-
"""Serialize table rows (dicts) to CSV and XLSX bytes, identical bytes for identical rows.

Same bytes for the same data is what lets a re-run compare and skip the write (changed=0).
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import csv
import datetime
import io
import re
import zipfile

# Characters XML 1.0 cannot hold (openpyxl refuses them); pasted text can contain them.
_ILLEGAL_XML = re.compile(u"[\x00-\x08\x0b\x0c\x0e-\x1f]")

# First characters that make a spreadsheet program read a CSV cell as a formula (OWASP, "CSV
# Injection"): equals, plus, minus, at, tab, carriage return.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value):
    """One CSV field: text that would start a formula gets a leading "'" (OWASP's neutralization).

    Only text is touched: annotators' answers and report text are typed by people, so "-2+3" or
    "=HYPERLINK(...)" in them is neutralized even where it was meant as data. Numbers the code
    itself writes (ids, offsets, lead times, counts) are ints/floats, stay numbers and are written
    as they are; a negative number is a number to a spreadsheet, never a formula. None is empty.
    """
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_bytes(columns, rows):
    """UTF-8 CSV (RFC 4180: comma, double quotes, CRLF) without a byte order mark.

    No BOM, so pandas/R read the first column name cleanly; Excel users get the .xlsx. None is an
    empty field. Text that a spreadsheet would run as a formula is neutralized (csv_cell), so the
    CSV is safe to double-click; the .xlsx keeps the exact text, stored as a string.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([csv_cell(row.get(column)) for column in columns])
    return buffer.getvalue().encode("utf-8")


def neutralize_csv(data):
    """A CSV file's bytes (Label Studio's own CSV export) with every cell neutralized (csv_cell).

    Every cell of such a file is text, so a negative number in it gets the "'" too (the study's
    ids, counts and lead times are not negative). A file with nothing to neutralize keeps its
    exact bytes; otherwise it is rewritten with the same line ending.
    """
    text = data.decode("utf-8")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if not any(cell.startswith(FORMULA_STARTS) for row in rows for cell in row):
        return data
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n" if "\r\n" in text else "\n")
    writer.writerows([[csv_cell(cell) for cell in row] for row in rows])
    return buffer.getvalue().encode("utf-8")


def xlsx_bytes(columns, rows, sheet_title, stamp):
    """XLSX with one sheet: header row (frozen, with a filter), then the rows (see workbook_bytes)."""
    return workbook_bytes([(sheet_title, columns, rows)], stamp, creator="study_merge_annotations",
                          autofilter=True)


def workbook_bytes(sheets, stamp, creator, autofilter=False):
    """XLSX with a sheet per (title, columns, rows): header row frozen, every text a string.

    `stamp` (a datetime.date or datetime) becomes the workbook's created/modified time and the
    time of every zip entry. openpyxl would otherwise write the current time into
    docProps/core.xml and into each zip entry, so identical data would give different bytes.
    """
    from openpyxl import Workbook
    from openpyxl.writer.excel import ExcelWriter

    moment = datetime.datetime(stamp.year, stamp.month, stamp.day)
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, columns, rows in sheets:
        sheet = workbook.create_sheet(title[:31])  # Excel's limit for a sheet's name
        sheet.append(list(columns))
        for row in rows:
            sheet.append([_cell_value(row.get(column)) for column in columns])
        for cells in sheet.iter_rows(min_row=2):
            for cell in cells:
                # A value starting with "=" would be stored as a formula and run when opened.
                if cell.data_type == "f":
                    cell.data_type = "s"
        sheet.freeze_panes = "A2"
        if autofilter:
            sheet.auto_filter.ref = sheet.dimensions
    workbook.properties.creator = creator
    workbook.properties.created = moment
    workbook.properties.modified = moment

    raw = io.BytesIO()
    # ExcelWriter directly: save_workbook() would overwrite `modified` with the current time.
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(workbook, archive).write_data()
    return _finished_zip(raw.getvalue(), moment)


def _cell_value(value):
    if isinstance(value, str):
        return _ILLEGAL_XML.sub(u"\ufffd", value)
    return value


def _finished_zip(data, moment):
    """Rewrite a zip with every entry's time set to `moment` (same order), its XML parts with
    every carriage return as a character reference.

    An XML reader turns a literal carriage return into a line feed ("a\r\nb" comes back as
    "a\nb", so a span's offsets no longer fit its report's text). openpyxl writes it as "&#13;"
    only when lxml is installed (the controller need not have it); without lxml it writes it as
    it is, and it is replaced here. The XML holds no carriage return of its own, only the data's.
    """
    source = zipfile.ZipFile(io.BytesIO(data))
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            info = zipfile.ZipInfo(entry.filename, date_time=moment.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            content = source.read(entry.filename)
            if entry.filename.endswith((".xml", ".rels")):
                content = content.replace(b"\r", b"&#13;")
            target.writestr(info, content)
    return output.getvalue()
