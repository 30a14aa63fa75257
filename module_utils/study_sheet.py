# -*- coding: utf-8 -*-
"""The assignment sheet as read from its xlsx file: columns found by header, data rows.

Reading only: the rules the rows must follow are in study_validation.py. Pure functions
(a file in, plain data out), unit-tested without Ansible."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import posixpath
import re
import zipfile
from xml.etree import ElementTree


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
    # The plain sheets the study uses (text, numbers, formulas' values) are read straight from
    # the file's XML: importing openpyxl and its parse take ~1 s for 5,000 rows, this ~0.1 s.
    # Anything else (a date or custom number format, another cell type, a file that is not
    # a plain workbook) goes to openpyxl, which reads and explains every case.
    try:
        rows = xlsx_rows(path)
    except (UnusualSheet, zipfile.BadZipFile, KeyError, IndexError, OSError, ValueError,
            ElementTree.ParseError):
        rows = None
    if rows is not None:
        return parse_sheet_rows(path, rows, column_letter)
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


def column_letter(index):
    """Excel's letters for a 1-based column index: 1 A, 26 Z, 27 AA."""
    letters = ""
    while index > 0:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


# -- the plain xlsx reader ---------------------------------------------------------------------
MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
PKG_REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
# Built-in number formats that show a number as a number (not a date or time): 0-13, 37-44,
# 48 and 49 (text). A numeric cell in any other format goes to openpyxl, which turns dates into
# datetimes.
PLAIN_NUMBER_FORMATS = frozenset(list(range(0, 14)) + list(range(37, 45)) + [48, 49])


class UnusualSheet(Exception):
    """Something the plain reader leaves to openpyxl."""


def xlsx_rows(path):
    """[(Excel row number, [cell values by column, None for empty])] of the first worksheet, as
    openpyxl's load_workbook(read_only=True, data_only=True) gives them (text, int, float,
    bool; formulas' cached values). Raises UnusualSheet for anything else."""
    with zipfile.ZipFile(path) as archive:
        sheet_path, strings_path = _parts(archive)
        strings = _shared_strings(archive, strings_path)
        plain_styles = _plain_number_styles(archive)
        return _sheet_rows(archive.read(sheet_path), strings, plain_styles)


def _part_path(target):
    """A relationship target of xl/workbook.xml as a path in the archive."""
    if target.startswith("/"):
        return target[1:]
    return posixpath.normpath(posixpath.join("xl", target))


def _parts(archive):
    """(first worksheet's path, shared strings' path or None), found as openpyxl finds them."""
    workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    targets = dict((rel.get("Id"), (rel.get("Type", ""), rel.get("Target", "")))
                   for rel in rels.iter(PKG_REL_NS + "Relationship"))
    strings = [target for kind, target in targets.values() if kind.endswith("/sharedStrings")]
    for sheet in workbook.iter(MAIN_NS + "sheet"):
        kind, target = targets.get(sheet.get(REL_NS + "id"), ("", ""))
        if kind.endswith("/chartsheet"):
            continue  # not in openpyxl's worksheets either
        if not kind.endswith("/worksheet") or not target:
            raise UnusualSheet("first sheet is not a plain worksheet")
        return _part_path(target), (_part_path(strings[0]) if strings else None)
    raise UnusualSheet("no worksheet")


def _text(element):
    """A string item's text as openpyxl's Text.content: <t>, then each run's <t>; no phonetics."""
    parts = []
    plain = element.find(MAIN_NS + "t")
    if plain is not None and plain.text:
        parts.append(plain.text)
    for run in element.findall(MAIN_NS + "r"):
        text = run.find(MAIN_NS + "t")
        if text is not None and text.text:
            parts.append(text.text)
    return "".join(parts)


def _shared_strings(archive, path):
    if path is None:
        return []
    root = ElementTree.fromstring(archive.read(path))
    # openpyxl drops 'x005F_' (Excel's escape of a literal underscore sequence) and nothing else.
    return [_text(item).replace("x005F_", "") for item in root.iter(MAIN_NS + "si")]


def _plain_number_styles(archive):
    """Indexes of the cell styles whose number format shows numbers as plain numbers."""
    try:
        root = ElementTree.fromstring(archive.read("xl/styles.xml"))
    except KeyError:
        return None  # no styles: every cell is General
    xfs = root.find(MAIN_NS + "cellXfs")
    if xfs is None:
        return None
    return frozenset(index for index, xf in enumerate(xfs.findall(MAIN_NS + "xf"))
                     if int(xf.get("numFmtId", 0)) in PLAIN_NUMBER_FORMATS)


def _column_index(letters):
    index = 0
    for char in letters:
        index = index * 26 + ord(char) - 64
    return index


def _sheet_rows(xml, strings, plain_styles):
    # One parse of the whole part (a few MB for tens of thousands of rows) is several times
    # faster than iterparse's events.
    data = ElementTree.fromstring(xml).find(MAIN_NS + "sheetData")
    rows = []
    if data is None:
        return rows
    row_tag, cell_tag, value_tag = MAIN_NS + "row", MAIN_NS + "c", MAIN_NS + "v"
    number = 0
    for element in data:
        if element.tag != row_tag:
            continue
        row_ref = element.get("r")
        number = int(row_ref) if row_ref else number + 1
        if rows and number <= rows[-1][0]:
            raise UnusualSheet("rows out of order at row %d" % number)
        row_ref = str(number)
        values = []
        for cell in element:
            if cell.tag != cell_tag:
                continue
            ref = cell.get("r")
            if ref:
                letters = ref.rstrip("0123456789")
                if ref[len(letters):] != row_ref or not letters.isalpha() or not letters.isupper():
                    raise UnusualSheet("cell reference %r in row %d" % (ref, number))
                column = _column_index(letters)
            else:
                column = len(values) + 1
            if column <= len(values):
                raise UnusualSheet("cells out of order in row %d" % number)
            if column > len(values) + 1:
                values.extend([None] * (column - 1 - len(values)))
            values.append(_cell_value(cell, strings, plain_styles, value_tag))
        rows.append((number, values))
    return rows


def _cell_value(cell, strings, plain_styles, value_tag):
    kind = cell.get("t", "n")
    if kind == "inlineStr":
        inline = cell.find(MAIN_NS + "is")
        return None if inline is None else _text(inline)
    value = cell.findtext(value_tag) or None
    if value is None:
        return None
    if kind == "n":
        style = int(cell.get("s", 0))
        if style not in (plain_styles if plain_styles is not None else (0,)):
            raise UnusualSheet("number in a date or custom format")
        if "." in value or "E" in value or "e" in value:
            return float(value)
        return int(value)
    if kind == "s":
        return strings[int(value)]
    if kind == "str":
        return value
    if kind == "b":
        return bool(int(value))
    raise UnusualSheet("cell type %r" % kind)


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
