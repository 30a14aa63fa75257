# -*- coding: utf-8 -*-
"""The first worksheet of a plain xlsx file as rows of values, read straight from its XML.

Why not openpyxl alone: importing it and parsing 5,000 rows takes ~1 s of every assign.yml
run, this ~0.1 s. Only the plain sheets the study uses are read here (text, numbers in a
number format, booleans, formulas' cached values), each exactly as openpyxl's
load_workbook(read_only=True, data_only=True) gives it (tests/unit/test_study_assignments.py
compares the two); anything else raises UnusualSheet, and the caller falls back to openpyxl,
which reads and explains every case.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import posixpath
import zipfile
from xml.etree import ElementTree


def column_letter(index):
    """Excel's letters for a 1-based column index: 1 A, 26 Z, 27 AA."""
    letters = ""
    while index > 0:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
PKG_REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
# Built-in number formats that show a number as a number (not a date or time): 0-13, 37-44,
# 48 and 49 (text). A numeric cell in any other format goes to openpyxl, which turns dates into
# datetimes.
PLAIN_NUMBER_FORMATS = frozenset(list(range(0, 14)) + list(range(37, 45)) + [48, 49])


class UnusualSheet(Exception):
    """Something the plain reader leaves to openpyxl."""


_MAIN_URI = MAIN_NS[1:-1].encode("ascii")
_DEFAULT_MAIN = b' xmlns="' + _MAIN_URI + b'"'


def _parse_main_part(xml, root_name):
    """(root element, prefix of the main namespace's tags) of a sheet or shared-strings part.

    ElementTree spends about half of its parse giving every element its namespace. Where the
    main namespace is declared only once, as the default namespace of the root element (as
    openpyxl and Excel write these parts), and no element un-declares the default namespace,
    every element without a prefix is in the main namespace and no other element is: the
    declaration is dropped before the parse and the tags are read without it (prefix ""). Any
    other part is parsed as it is (prefix MAIN_NS)."""
    start = xml.find(b"<" + root_name)
    head_end = xml.find(b">", start)
    if (start >= 0 and xml.count(_MAIN_URI) == 1 and xml.find(_DEFAULT_MAIN, start, head_end) > 0
            and b'xmlns=""' not in xml and b"xmlns=''" not in xml and b"<!" not in xml[:start]):
        root = ElementTree.fromstring(xml.replace(_DEFAULT_MAIN, b"", 1))
        if root.tag == root_name.decode("ascii"):
            return root, ""
    return ElementTree.fromstring(xml), MAIN_NS


def xlsx_rows(path):
    """[(Excel row number, [cell values by column, None for empty])] of the first worksheet, as
    openpyxl's load_workbook(read_only=True, data_only=True) gives them (text, int, float,
    bool; formulas' cached values). Raises UnusualSheet for anything else, an unreadable or
    broken file included (openpyxl then says what is wrong with it)."""
    try:
        with zipfile.ZipFile(path) as archive:
            sheet_path, strings_path = _parts(archive)
            strings = _shared_strings(archive, strings_path)
            plain_styles = _plain_number_styles(archive)
            return _sheet_rows(archive.read(sheet_path), strings, plain_styles)
    except (zipfile.BadZipFile, KeyError, IndexError, OSError, ValueError,
            ElementTree.ParseError) as err:
        raise UnusualSheet(str(err))


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


def _text(element, ns=MAIN_NS):
    """A string item's text as openpyxl's Text.content: <t>, then each run's <t>; no phonetics."""
    parts = []
    plain = element.find(ns + "t")
    if plain is not None and plain.text:
        parts.append(plain.text)
    for run in element.findall(ns + "r"):
        text = run.find(ns + "t")
        if text is not None and text.text:
            parts.append(text.text)
    return "".join(parts)


def _shared_strings(archive, path):
    if path is None:
        return []
    root, ns = _parse_main_part(archive.read(path), b"sst")
    # openpyxl drops 'x005F_' (Excel's escape of a literal underscore sequence) and nothing else.
    return [_text(item, ns).replace("x005F_", "") for item in root.iter(ns + "si")]


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
    root, ns = _parse_main_part(xml, b"worksheet")
    data = root.find(ns + "sheetData")
    rows = []
    if data is None:
        return rows
    row_tag, cell_tag = ns + "row", ns + "c"
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
            values.append(_cell_value(cell, strings, plain_styles, ns))
        rows.append((number, values))
    return rows


def _cell_value(cell, strings, plain_styles, ns):
    kind = cell.get("t", "n")
    if kind == "inlineStr":
        inline = cell.find(ns + "is")
        return None if inline is None else _text(inline, ns)
    value = cell.findtext(ns + "v") or None
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
