"""Assignment sheet parsing, validation, task planning and the balanced batch generator.

Pure functions on real xlsx files written with openpyxl in tmp_path; no Ansible run, no server.
"""
from __future__ import annotations

import json
import os
import random
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from openpyxl.styles import Font, PatternFill

REPO = Path(__file__).resolve().parents[2]

# conftest.py makes the project's module_utils importable as ansible.module_utils.NAME.
from ansible.module_utils.label_studio_config import referenced_fields  # noqa: E402
from ansible.module_utils.study_assignment_plan import (  # noqa: E402
    plan_tasks, render_bundle, render_task_file, task_counts, task_file_name, tasks_by_annotator)
from ansible.module_utils.study_sheet import ALL, read_sheet  # noqa: E402
from ansible.module_utils.study_validation import load_study, resolve_batches, sheet_warnings  # noqa: E402
from ansible.module_utils.study_batch_generator import (  # noqa: E402
    SheetChangedError, apply_generated_batch, available_reports, balanced_assignment,
    plan_generated_batch, write_generated_batch)

NAMES = ["annotator1", "annotator2", "annotator3", "annotator4", "annotator5", "annotator6"]
FIELDS = ["impression", "candidate0", "candidate1", "candidate2", "candidate3"]


def record(report_id, **overrides):
    data = {"id": report_id, "findings+bg": "FINDINGS: invented %d." % report_id,
            "impression": "Impression %d." % report_id,
            "order": ["wgsum", "bertabs", "wgsum+cl", "gsum_thresholding"]}
    data.update({"candidate%d" % i: "Candidate %d of %d." % (i, report_id) for i in range(4)})
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def write_reports(path, records):
    path.write_text(json.dumps(records))
    return str(path)


def write_sheet(path, rows, header=("id", "batch", "a1", "a2", "a3")):
    """rows: lists of cell values under the header (None = empty); row 2 is the first."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    workbook.save(path)
    return str(path)


@pytest.fixture
def study(tmp_path):
    """A helper that writes reports (ids 1..n) and a sheet, then loads and validates them."""
    def make(rows, header=("id", "batch", "a1", "a2", "a3"), records=None, names=NAMES,
             fields=FIELDS, reports_count=30):
        reports = write_reports(tmp_path / "reports.json",
                                records if records is not None
                                else [record(n) for n in range(1, reports_count + 1)])
        sheet = write_sheet(tmp_path / "assignments.xlsx", rows, header)
        return load_study(sheet, reports, names, "study_id", fields)
    return make


# --- parsing -----------------------------------------------------------------------------------

def test_parse_all_empty_cells_and_extra_annotator_columns(tmp_path):
    path = tmp_path / "s.xlsx"
    write_sheet(path, [
        [1, "batch0", "all", None, None, None, None, "training"],
        [2, "batch1", "annotator1", None, "annotator3", None, "annotator5"],
        [None, None, None, None, None, None, None, "a note on an otherwise empty row"],
    ], header=("id", "batch", "a1", "a2", "a3", "a4", "a5", "notes"))
    workbook = openpyxl.load_workbook(path)
    worksheet = workbook.active
    worksheet["A6"].fill = PatternFill("solid", start_color="FFEEEEEE")  # formatted, empty
    worksheet["A7"] = 3
    for column, value in zip("ABCDEFG", [4, "batch1", None, "  ", None, "annotator4", None]):
        worksheet["%s8" % column] = value
    workbook.save(path)
    sheet = read_sheet(path)
    assert sheet.problems == []
    assert [c.name for c in sheet.annotator_columns] == ["a1", "a2", "a3", "a4", "a5"]
    assert [c.letter for c in sheet.annotator_columns] == ["C", "D", "E", "F", "G"]
    # Excel row numbers survive the skipped empty rows (5 and 6).
    assert [(r.number, r.report_id, r.batch) for r in sheet.rows] == [
        (2, 1, "batch0"), (3, 2, "batch1"), (7, 3, None), (8, 4, "batch1")]
    assert sheet.rows[0].annotator_values() == [ALL]
    assert sheet.rows[1].annotator_values() == ["annotator1", "annotator3", "annotator5"]
    assert sheet.rows[2].annotator_values() == []
    assert sheet.rows[3].annotator_values() == ["annotator4"]
    assert sheet.batches() == ["batch0", "batch1"]
    assert sheet.last_row == 8


def test_columns_found_by_header_in_any_order_and_case_with_numeric_ids(tmp_path):
    path = write_sheet(tmp_path / "s.xlsx", [
        ["ALL", "batch0", 50848467.0, "annotator2"],
        ["annotator1", "batch0", " 50848468 ", None],
    ], header=("A1", "Batch", "ID", "a2"))
    sheet = read_sheet(path)
    assert sheet.problems == []
    assert (sheet.id_column.letter, sheet.batch_column.letter) == ("C", "B")
    assert [r.report_id for r in sheet.rows] == [50848467, 50848468]
    assert sheet.rows[0].annotator_values() == [ALL, "annotator2"]


def test_annotator_columns_sorted_by_number_not_position(tmp_path):
    path = write_sheet(tmp_path / "s.xlsx", [[1, "b", "x", "y", "z"]],
                       header=("id", "batch", "a10", "a2", "a1"))
    assert [c.name for c in read_sheet(path).annotator_columns] == ["a1", "a2", "a10"]


def openpyxl_rows(path):
    """What openpyxl reads (read_only, data_only): [(row, values)], empty cells and rows dropped."""
    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        rows = [(n, list(v)) for n, v in enumerate(workbook.worksheets[0].iter_rows(values_only=True), 1)]
    finally:
        workbook.close()
    return trimmed(rows)


def trimmed(rows):
    out = []
    for number, values in rows:
        while values and values[-1] is None:
            values = values[:-1]
        if values:
            out.append((number, [(type(v).__name__, v) for v in values]))
    return out


def test_plain_reader_reads_what_openpyxl_reads(tmp_path):
    """The sheet is read from its XML without openpyxl (1 s for 5,000 rows with it): every value
    openpyxl gives, typed as openpyxl types it, at the same row and column."""
    from ansible.module_utils.xlsx_rows import xlsx_rows

    path = tmp_path / "s.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "assignments"
    sheet.append(["id", "batch", "a1", "a2", "notes"])
    sheet.append([50848467, "batch0", "all", "  annotator2 ", "Épanchement < 5 mm & \"x\""])
    sheet.append([50848468.0, "batch1", None, "annotator1", 1.5e-7])
    sheet.append([True, False, "=A2", "=1+1", -3])
    sheet["C9"] = "far below, column C"
    sheet["AB9"] = "column AB"
    sheet["B12"].fill = PatternFill("solid", start_color="FFEEEEEE")  # formatted, empty
    sheet["A13"] = "   "
    sheet["A13"].font = Font(bold=True)
    sheet["A14"] = 7
    sheet["A14"].number_format = "0.00"  # a built-in plain number format
    workbook.create_sheet("second")["A1"] = "not read"
    workbook.save(path)
    assert trimmed(xlsx_rows(str(path))) == openpyxl_rows(path)
    assert read_sheet(str(path)).last_row == 14


def test_plain_reader_reads_shared_and_rich_strings_as_openpyxl(tmp_path):
    """Excel writes text as shared strings (openpyxl writes it inline): a hand-made workbook with
    shared, rich-text (runs) and phonetic strings, a formula's cached text and an error cell."""
    from ansible.module_utils.xlsx_rows import xlsx_rows

    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    parts = {
        "[Content_Types].xml": (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
            '</Types>'),
        "_rels/.rels": (
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="%s/officeDocument" Target="xl/workbook.xml"/></Relationships>' % rel),
        "xl/workbook.xml": (
            '<workbook xmlns="%s" xmlns:r="%s"><sheets><sheet name="S" sheetId="1" r:id="rId1"/>'
            '</sheets></workbook>' % (main, rel)),
        "xl/_rels/workbook.xml.rels": (
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="%s/worksheet" Target="worksheets/sheet1.xml"/>'
            '<Relationship Id="rId2" Type="%s/sharedStrings" Target="sharedStrings.xml"/>'
            '</Relationships>' % (rel, rel)),
        "xl/sharedStrings.xml": (
            '<sst xmlns="%s"><si><t>id</t></si><si><t>batch</t></si><si><t>a1</t></si>'
            '<si><r><rPr><b/></rPr><t>anno</t></r><r><t xml:space="preserve">tator1 </t></r>'
            '<rPh sb="0" eb="1"><t>ignored</t></rPh></si><si><t>snake_x005F_case</t></si><si><t/></si>'
            '</sst>' % main),
        "xl/worksheets/sheet1.xml": (
            '<worksheet xmlns="%s"><sheetData>'
            '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c></row>'
            '<row r="2"><c r="A2"><v>12</v></c><c r="B2" t="s"><v>4</v></c><c r="C2" t="s"><v>3</v></c>'
            '<c r="D2" t="str"><f>B2</f><v>snake</v></c><c r="E2" t="s"><v>5</v></c></row>'
            '<row><c><v>13</v></c><c t="inlineStr"><is><r><t>in</t></r><r><t>line</t></r></is></c></row>'
            '</sheetData></worksheet>' % main),
    }
    import zipfile
    path = tmp_path / "excel.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    expected = openpyxl_rows(path)
    assert trimmed(xlsx_rows(str(path))) == expected
    assert expected[1][1][2] == ("str", "annotator1 ")
    # An error cell is left to openpyxl, which reads it as its text.
    sheet_xml = parts["xl/worksheets/sheet1.xml"].replace('<c r="E2" t="s"><v>5</v></c>',
                                                         '<c r="E2" t="e"><v>#N/A</v></c>')
    error = tmp_path / "error.xlsx"
    with zipfile.ZipFile(error, "w") as archive:
        for name, text in dict(parts, **{"xl/worksheets/sheet1.xml": sheet_xml}).items():
            archive.writestr(name, text)
    assert read_sheet(str(error)).rows[0].raw_id == 12


@pytest.mark.parametrize("layout, fast", [
    ('<worksheet xmlns="{main}" xmlns:x14ac="http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac">'
     '<sheetData>{rows}</sheetData></worksheet>', True),
    ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{main}">'
     '<sheetData>{rows}</sheetData></worksheet>', True),
    # Not the plain layout: the namespace as a prefix, declared twice, un-declared inside.
    ('<x:worksheet xmlns:x="{main}"><x:sheetData>{xrows}</x:sheetData></x:worksheet>', False),
    ('<worksheet xmlns="{main}"><sheetData>{rows}</sheetData><extLst xmlns:m="{main}"/></worksheet>', False),
    ('<worksheet xmlns="{main}"><sheetData>{rows}<row xmlns="" r="9"><c r="A9"><v>1</v></c></row>'
     '</sheetData></worksheet>', False),
])
def test_sheet_xml_is_read_alike_with_or_without_its_namespace_declaration(layout, fast):
    """Where the main namespace is only the root's default one, the part is parsed without it
    (about half the parse time); every other layout is parsed as it is; the rows are the same."""
    from ansible.module_utils.xlsx_rows import MAIN_NS, _parse_main_part, _sheet_rows

    main = MAIN_NS[1:-1]
    rows = ('<row r="1"><c r="A1" t="inlineStr"><is><t>id</t></is></c><c r="B1" t="n"><v>7</v></c></row>'
            '<row r="2"><c r="A2" t="inlineStr"><is><r><t>Épan</t></r><r><t>chement &amp; x</t></r></is></c></row>')
    xrows = rows.replace("<", "<x:").replace("<x:/", "</x:")
    xml = layout.format(main=main, rows=rows, xrows=xrows).encode("utf-8")
    root, prefix = _parse_main_part(xml, b"worksheet")
    assert prefix == ("" if fast else MAIN_NS)
    assert _sheet_rows(xml, [], None) == [(1, ["id", 7]), (2, ["Épanchement & x"])]


def test_dates_go_to_openpyxl(tmp_path):
    """A number shown as a date is a datetime for openpyxl: such sheets are read by openpyxl."""
    import datetime
    from ansible.module_utils.xlsx_rows import UnusualSheet, xlsx_rows

    path = write_sheet(tmp_path / "s.xlsx", [[1, datetime.date(2026, 11, 30), "annotator1"]])
    with pytest.raises(UnusualSheet):
        xlsx_rows(path)
    assert read_sheet(path).rows[0].batch == "2026-11-30 00:00:00"


def test_unreadable_sheet_names_the_file(tmp_path):
    from ansible.module_utils.study_sheet import StudyDataError

    bad = tmp_path / "assignments.xlsx"
    bad.write_text("not a workbook")
    with pytest.raises(StudyDataError, match="assignments.xlsx"):
        read_sheet(str(bad))


# --- validation: one test per rule, each message names file, row and column ---------------------

def messages(result):
    return result[3]


def only(result):
    problems = messages(result)
    assert len(problems) == 1, problems
    return problems[0]


@pytest.mark.parametrize("header, missing", [
    (("batch", "a1"), "missing column 'id'"),
    (("id", "a1", "a2"), "missing column 'batch'"),
    (("id", "batch", "annotator"), "no annotator columns (a1, a2, ...)"),
])
def test_missing_columns(study, header, missing):
    message = only(study([[1] * len(header)], header=header))
    assert "assignments.xlsx row 1" in message and missing in message


def test_column_named_twice(study):
    message = only(study([[1, "b", "annotator1", "annotator2"]], header=("id", "batch", "a1", "A1")))
    assert "assignments.xlsx row 1, column D (A1): column A1 appears twice (also column C)" in message


def test_duplicate_report_id(study):
    message = only(study([[1, "batch0", "all"], [2, "batch0", "all"], [1, "batch1", "annotator1"]]))
    assert message.endswith("assignments.xlsx row 4, column A (id): report 1 is listed again "
                            "(first in row 2)")


def test_duplicate_report_id_across_number_formats(study):
    message = only(study([[7, "batch0", "all"], ["7", "batch0", "all"]]))
    assert "row 3, column A (id): report 7 is listed again (first in row 2)" in message


def test_id_not_in_reports(study):
    message = only(study([[1, "batch0", "all"], [999, "batch0", "all"]]))
    assert "assignments.xlsx row 3, column A (id): report 999 is not in " in message
    assert message.endswith("reports.json")


def test_empty_id(study):
    message = only(study([[None, "batch0", "all"]]))
    assert message.endswith("assignments.xlsx row 2, column A (id): the report id is empty")


def test_unknown_annotator_suggests_closest_name(study):
    message = only(study([[1, "batch2", "annotator1", "anotator2", None]]))
    assert message.endswith("assignments.xlsx row 2, column D (a2): unknown annotator "
                            "'anotator2'; did you mean 'annotator2'?")


def test_unknown_annotator_case_suggestion(study):
    assert "did you mean 'annotator3'?" in only(study([[1, "b", "Annotator3"]]))


def test_unknown_annotator_without_close_match_lists_known_names(study):
    message = only(study([[1, "batch2", "zz"]]))
    assert "row 2, column C (a1): unknown annotator 'zz'; known annotators: annotator1, " in message


# The original study gave a report to every annotator named in any a column, and to everyone
# when any a column says all (its batch0/batch1 rows say all in a1 and a2): repeats are no error.

def warnings_and_counts(result):
    """(problems, warnings, tasks per annotator) of a one-batch sheet."""
    sheet, reports, names, problems = result
    plan = plan_tasks(sheet, reports, names, sheet.batches(), "study_id")
    counts = {name: count for per_batch in task_counts(plan).values()
              for name, count in per_batch.items() if count}
    return problems, sheet_warnings(sheet), counts


def test_all_in_two_columns_is_everyone_once_without_a_warning(study):
    """The original sheet's shape: `55187337  batch0  all  all  <empty>`."""
    problems, warnings, counts = warnings_and_counts(study([[1, "batch0", "all", "all", None],
                                                            [2, "batch0", "all", None, "ALL"]]))
    assert problems == [] and warnings == []
    assert counts == dict.fromkeys(NAMES, 2)


def test_same_annotator_twice_is_a_located_warning_and_counts_once(study, tmp_path):
    problems, warnings, counts = warnings_and_counts(
        study([[1, "batch2", "annotator2", "annotator1", "annotator2"]]))
    assert problems == []
    assert warnings == ["%s row 2, columns C (a1) and E (a3): annotator2 is named twice; the "
                        "report counts once for them" % (tmp_path / "assignments.xlsx")]
    assert counts == {"annotator1": 1, "annotator2": 1}


@pytest.mark.parametrize("cells, expected", [
    (["all", "annotator4", None], ["row 2, column D (a2): annotator4 is already included by "
                                   "'all' in column C (a1)"]),
    (["annotator4", None, "all"], ["row 2, column C (a1): annotator4 is already included by "
                                   "'all' in column E (a3)"]),
    (["all", "annotator4", "ALL"], ["row 2, column D (a2): annotator4 is already included by "
                                    "'all' in column C (a1)"]),
    (["annotator4", "all", "annotator4"], [
        "row 2, column C (a1): annotator4 is already included by 'all' in column D (a2)",
        "row 2, columns C (a1) and E (a3): annotator4 is named twice"]),
])
def test_annotator_next_to_all_is_a_located_warning_and_counts_once(study, tmp_path, cells,
                                                                     expected):
    problems, warnings, counts = warnings_and_counts(study([[1, "batch0"] + cells]))
    assert problems == []
    assert [w.split("assignments.xlsx ")[1].split("; the report")[0] for w in warnings] == expected
    assert all(w.startswith(str(tmp_path / "assignments.xlsx") + " row 2, column")
               and w.endswith("; the report counts once for them") for w in warnings)
    assert counts == dict.fromkeys(NAMES, 1)


def test_unknown_annotator_next_to_all_is_still_refused(study):
    assert "row 2, column D (a2): unknown annotator 'anotator4'; did you mean 'annotator4'?" \
        in only(study([[1, "batch0", "all", "anotator4"]]))


def test_annotators_without_batch(study):
    message = only(study([[1, None, "annotator1", None, "annotator2"]]))
    assert message.endswith("row 2, column B (batch): empty, but C (a1) and E (a3) names "
                            "annotators; give a batch or clear them")


def test_batch_without_annotators(study):
    message = only(study([[1, "batch2"]]))
    assert message.endswith("row 2, columns C (a1) to E (a3): report 1 is in batch2 but no "
                            "annotator is named")


def test_batch_named_all_is_refused(study):
    assert "row 2, column B (batch): 'all' cannot be a batch name" in only(study([[1, "all", "all"]]))


def test_requested_batch_not_in_sheet(study):
    sheet = study([[1, "batch0", "all"], [2, "batch2", "annotator1"]])[0]
    batches, problems = resolve_batches(sheet, "Batch2")
    assert batches == []
    assert problems == ["%s column B (batch): no row has batch 'Batch2' (did you mean 'batch2'? "
                        "batches in the sheet: batch0, batch2)" % sheet.path]
    assert "(batches in the sheet: batch0, batch2)" in resolve_batches(sheet, "training")[1][0]
    assert resolve_batches(sheet, "all") == (["batch0", "batch2"], [])
    assert resolve_batches(sheet, "batch2") == (["batch2"], [])


def test_report_missing_a_field_the_label_config_shows(study, tmp_path):
    fields = referenced_fields((REPO / "files/study/label-config.xml").read_text())
    assert {"impression", "candidate3"} <= set(fields)
    records = [record(1), record(2, candidate3=None), record(3, impression=None, candidate0=None)]
    problems = messages(study([[1, "b", "all"], [2, "b", "all"], [3, None]], records=records,
                              fields=fields))
    # Report 3 is in no batch, so it is not imported and not checked.
    assert len(problems) == 1
    assert problems[0] == ('%s: report 2 (%s row 3) lacks "candidate3", which the label config '
                           'shows' % (tmp_path / "reports.json", tmp_path / "assignments.xlsx"))


def test_key_and_batch_fields_count_as_present(study):
    assert messages(study([[1, "b", "all"]], fields=FIELDS + ["study_id", "batch"])) == []


def test_reports_json_problems(study):
    records = [record(1), record(1), {"impression": "no id"}, "text", record(2, batch="x")]
    problems = messages(study([[1, "b", "all"], [2, "b", "all"]], records=records))
    assert [p.split("reports.json ")[1] for p in problems] == [
        "record 2 (id 1): id appears again (first in record 1)",
        'record 3: no "id"',
        "record 4: expected an object, found str",
        'record 5 (id 2): has a field "batch", which the task data uses for the batch name',
    ]


def test_annotator_list_problems(study):
    names = ["annotator1", {"name": "annotator2", "email": "a2@example.org"}, "annotator1",
             {"email": "x@example.org"}, "All"]
    problems = messages(study([[1, "b", "annotator2"]], names=names))
    assert problems == ["annotators item 3: annotator1 is listed twice",
                        "annotators item 4: no name",
                        "annotators item 5: 'All' cannot be an annotator name (in the sheet it "
                        "means every annotator)"]


def test_all_problems_reported_at_once_in_row_order(study):
    result = study([
        [1, "batch0", "all"],
        [1, "batch0", "all"],                      # row 3: duplicate
        [404, "batch1", "annotator1"],             # row 4: not in reports
        [5, "batch1", "anotator2", "annotator2"],  # row 5: unknown name
        [6, "batch1", "annotator3", "annotator3"],  # row 6: twice (a warning only)
        [7, "batch1", "all", "annotator6"],        # row 7: twice through all (a warning only)
        [8, None, "annotator1"],                   # row 8: no batch
    ])
    assert [p.split(" row ")[1].split(",")[0] for p in messages(result)] == ["3", "4", "5", "8"]
    assert [w.split(" row ")[1].split(",")[0] for w in sheet_warnings(result[0])] == ["6", "7"]


def test_valid_sheet_has_no_problems(study):
    assert messages(study([[1, "batch0", "all"], [2, "batch2", "annotator1", "annotator2"],
                           [3, None]])) == []


# --- planning tasks ------------------------------------------------------------------------------

def test_plan_tasks_gives_all_to_everybody_and_names_to_those_named(study):
    sheet, reports, names, problems = study([
        [1, "batch0", "all"],
        [2, "batch2", "annotator1", None, "annotator3"],
        [3, "batch2", "annotator3", "annotator6"],
        [4, None],
    ], names=NAMES)
    assert problems == []
    batches, _ = resolve_batches(sheet, "all")
    plan = plan_tasks(sheet, reports, names, batches, "study_id")
    counts = task_counts(plan)
    assert counts["batch0"] == dict.fromkeys(NAMES, 1)
    assert counts["batch2"] == {"annotator1": 1, "annotator2": 0, "annotator3": 2,
                                "annotator4": 0, "annotator5": 0, "annotator6": 1}
    task = plan["batch2"]["annotator3"][0]
    assert "id" not in task
    assert task == {"study_id": 2, "batch": "batch2", **{k: v for k, v in record(2).items()
                                                          if k != "id"}}
    assert list(task)[:2] == ["study_id", "batch"]
    by_annotator = tasks_by_annotator(plan, names, batches)
    assert [t["study_id"] for t in by_annotator["annotator3"]] == [1, 2, 3]
    assert by_annotator["annotator2"] == [plan["batch0"]["annotator2"][0]]


def test_task_file_name_and_content():
    assert task_file_name("batch2", "annotator1") == "batch2-annotator1-tasks.json"
    text = render_task_file([{"study_id": 1, "impression": "Épanchement."}])
    assert json.loads(text) == [{"study_id": 1, "impression": "Épanchement."}]
    assert "Épanchement" in text and text.endswith("\n")


@pytest.mark.parametrize("tasks", [
    [], {"not": "a list"}, [{}], [{"study_id": 1, "order": [], "nested": {}}],
    [{"study_id": 50848467, "batch": "batch0", "impression": "Épanchement \"5 mm\"\n\t\u2028\x00 ✓",
      "order": ["wgsum", "bertabs"], "score": 1.5e-7, "big": 10 ** 30, "neg": -0.0, "ok": True,
      "no": False, "none": None, "mixed": [None, True, 1.0, "x"]}],
    [{"deep": {"a": [1, {"b": None}]}, "x": 1}, {"list_in_list": [1, [2]]}, {1: "int key"},
     {"nan": float("nan")}, {"inf": float("inf")}, "a bare string", 7, [1, 2], {"plain": "last"}],
])
def test_task_file_is_byte_for_byte_json_dumps_indent_2(tasks):
    """The fast layout writes exactly what json.dumps(indent=2) wrote before (re-runs compare
    files byte for byte); anything not flat is left to json.dumps itself."""
    assert render_task_file(tasks) == json.dumps(tasks, indent=2, ensure_ascii=False) + "\n"


def test_task_files_sharing_tasks_are_laid_out_as_each_alone():
    """sync_task_files lays a task shared by several files out once (one cache for all files)."""
    shared = [{"study_id": n, "impression": "Impression %d." % n, "order": ["b", "a"]} for n in range(3)]
    first, second = shared[:2], [shared[2], shared[0], {"study_id": 9, "deep": {"x": [1]}}]
    cache = {}
    for tasks in (first, second, first):
        assert render_task_file(tasks, cache) == json.dumps(tasks, indent=2, ensure_ascii=False) + "\n"


def test_bundle_holds_every_annotator_with_tasks_keyed_by_project_in_study_order():
    by_annotator = {"b": [{"study_id": 2, "impression": "Épanchement."}], "a": [{"study_id": 1}], "c": []}
    content, projects, tasks = render_bundle(by_annotator, ["a", "b", "c"], "RRS: ")
    assert (projects, tasks) == (2, 2)
    assert list(json.loads(content.decode("utf-8")).items()) == [
        ("RRS: a", [{"study_id": 1}]), ("RRS: b", [{"study_id": 2, "impression": "Épanchement."}])]
    assert "Épanchement".encode("utf-8") in content



@pytest.mark.parametrize("tasks", [
    [{"study_id": 50848467, "batch": "batch0", "impression": "Épanchement \"5 mm\"\n\t\u2028\x00 ✓",
      "order": ["wgsum", "bertabs"], "empty": [], "score": 1.5e-7, "big": 10 ** 30, "neg": -0.0,
      "ok": True, "no": False, "none": None, "mixed": [None, True, 1.0, "x"]}],
    [{"deep": {"a": [1, {"b": None}]}, "x": 1}, {"list_in_list": [1, [2]]}, {1: "int key"},
     {"nan": float("nan")}, {"inf": float("inf")}, {}, {"plain": "last"}],
])
def test_task_files_and_bundle_share_one_layout_cache_byte_for_byte(tasks):
    """study_batch_tasks lays each task out once for the bundle and the task files together (one
    cache); each output is still exactly what json.dumps writes for it alone."""
    texts = {}
    content, _projects, _count = render_bundle({"a": tasks, "b": tasks[::-1]}, ["a", "b"], "RRS: ", texts)
    assert content == json.dumps({"RRS: a": tasks, "RRS: b": tasks[::-1]}, ensure_ascii=False,
                                 separators=(",", ":")).encode("utf-8")
    for listed in (tasks, tasks[::-1]):
        assert render_task_file(listed, texts) == json.dumps(listed, indent=2, ensure_ascii=False) + "\n"


# --- balanced generator --------------------------------------------------------------------------

@pytest.mark.parametrize("annotators", [1, 2, 3, 4, 5, 6, 7, 10])
def test_balanced_assignment_loads_within_one_and_distinct(annotators):
    names = ["n%d" % i for i in range(annotators)]
    for per_report in range(1, annotators + 1):
        for size in (1, 2, 3, 5, 7, 10, 17, 33, 100):
            for seed in range(12):
                assignment = balanced_assignment(list(range(size)), names, per_report,
                                                 random.Random(seed))
                assert [report for report, _ in assignment] == list(range(size))
                loads = dict.fromkeys(names, 0)
                for _report, chosen in assignment:
                    assert len(chosen) == per_report
                    assert len(set(chosen)) == per_report, (annotators, per_report, size, seed)
                    for name in chosen:
                        loads[name] += 1
                assert max(loads.values()) - min(loads.values()) <= 1, (
                    annotators, per_report, size, seed, loads)
                assert sum(loads.values()) == size * per_report


def test_refill_never_repeats_an_annotator_where_naive_popping_does():
    """The original's bug: popping k from a refilled stack can repeat one across the refill."""
    def naive(reports, names, k, rng):
        stack, out = [], []
        for report in reports:
            chosen = []
            for _ in range(k):
                if not stack:
                    stack = list(names)
                    rng.shuffle(stack)
                chosen.append(stack.pop())
            out.append(chosen)
        return out

    names = ["n%d" % i for i in range(4)]
    naive_repeats = sum(any(len(set(c)) < 3 for c in naive(range(20), names, 3, random.Random(s)))
                        for s in range(50))
    assert naive_repeats > 0  # the case exists in this setting...
    for seed in range(50):    # ...and never happens here
        for _report, chosen in balanced_assignment(range(20), names, 3, random.Random(seed)):
            assert len(set(chosen)) == 3


def sheet_for_generation(tmp_path, name="assignments.xlsx", reports_count=40):
    """batch0 (ids 1-4, all), batch1 (5-6), 7-20 listed without batch, 21-40 not listed."""
    rows = [[n, "batch0", "all"] for n in range(1, 5)]
    rows += [[5, "batch1", "annotator1", "annotator2"], [6, "batch1", "annotator3"]]
    rows += [[n] for n in range(7, 21)]
    reports = write_reports(tmp_path / "reports.json",
                            [record(n) for n in range(1, reports_count + 1)])
    path = write_sheet(tmp_path / name, rows)
    return path, reports


def generate(path, reports, batch="batch2", size=20, per_report=3, seed="42", names=NAMES):
    sheet, by_id, names, problems = load_study(path, reports, names, "study_id")
    assert problems == []
    return sheet, plan_generated_batch(sheet, list(by_id), names, batch, size, per_report, seed)


def test_generator_picks_only_reports_in_no_batch(tmp_path):
    path, reports = sheet_for_generation(tmp_path)
    sheet, (generated, problems) = generate(path, reports, size=34)
    assert problems == []
    assert available_reports(sheet, list(range(1, 41))) == list(range(7, 41))
    assert sorted(row["id"] for row in generated.rows) == list(range(7, 41))
    assert max(generated.counts.values()) - min(generated.counts.values()) <= 1
    # Listed rows are filled in place; the others go below the last used row (21).
    placed = {row["id"]: (row["row"], row["appended"]) for row in generated.rows}
    assert placed[7] == (8, False) and placed[20] == (21, False)
    assert [placed[n] for n in (21, 22, 40)] == [(22, True), (23, True), (41, True)]


def test_generator_is_deterministic_for_a_seed(tmp_path):
    path, reports = sheet_for_generation(tmp_path)
    first = generate(path, reports, seed="7")[1][0]
    again = generate(path, reports, seed="7")[1][0]
    other = generate(path, reports, seed="8")[1][0]
    assert first.rows == again.rows and first.counts == again.counts
    assert first.rows != other.rows


def test_generator_refuses_an_existing_batch(tmp_path):
    path, reports = sheet_for_generation(tmp_path)
    generated, problems = generate(path, reports, batch="batch0")[1]
    assert generated is None
    assert problems == ["%s column B (batch): batch 'batch0' already exists (rows 2-5); the "
                        "generator only adds new batches: choose another name" % path]


@pytest.mark.parametrize("kwargs, expected", [
    ({"size": 35}, "size: 35, but only 34 reports are in no batch yet"),
    ({"size": 0}, "size: 0, but a batch needs at least one report"),
    ({"per_report": 7}, "per_report: 7, but it must be between 1 and the number of annotators (6)"),
    ({"per_report": 0}, "per_report: 0, but it must be between 1"),
    ({"batch": "All"}, "batch: 'all' cannot be a batch name"),
])
def test_generator_parameter_problems(tmp_path, kwargs, expected):
    path, reports = sheet_for_generation(tmp_path)
    generated, problems = generate(path, reports, **kwargs)[1]
    assert generated is None and len(problems) == 1 and problems[0].startswith(expected)


def cell_snapshot(path):
    worksheet = openpyxl.load_workbook(path).active
    return {cell.coordinate: cell.value for row in worksheet.iter_rows() for cell in row}


def test_writing_keeps_existing_rows_and_formatting_and_makes_a_backup(tmp_path):
    path, reports = sheet_for_generation(tmp_path)
    workbook = openpyxl.load_workbook(path)
    worksheet = workbook.active
    worksheet["A3"].font = Font(bold=True, color="FFC00000")
    worksheet["A3"].fill = PatternFill("solid", start_color="FFFFFF00", end_color="FFFFFF00")
    worksheet["A21"].number_format = "0"
    worksheet["G4"] = "a note right of the data"
    worksheet.column_dimensions["A"].width = 21
    worksheet.freeze_panes = "A2"
    workbook.save(path)
    os.chmod(path, 0o640)
    original = Path(path).read_bytes()
    before = cell_snapshot(path)

    sheet, (generated, problems) = generate(path, reports, size=30, per_report=4)
    written = write_generated_batch(path, generated)

    backup = Path(written)
    assert backup.parent == Path(path).parent
    assert backup.name.startswith("assignments.backup-") and backup.suffix == ".xlsx"
    assert backup.read_bytes() == original
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640

    after = cell_snapshot(path)
    new_cells = set()
    for row in generated.rows:
        new_cells.add("B%d" % row["row"])
        new_cells.update("%s%d" % (letter, row["row"]) for letter in "CDEF")
        if row["appended"]:
            new_cells.add("A%d" % row["row"])
    for coordinate, value in before.items():
        if coordinate not in new_cells:
            assert after.get(coordinate) == value, coordinate
    # per_report=4 with a1..a3: a4 is added right of everything used (G holds a note).
    assert generated.new_columns == [{"column": "H", "index": 8, "name": "a4"}]
    assert after["H1"] == "a4"

    worksheet = openpyxl.load_workbook(path).active
    assert worksheet["A3"].font.b is True and worksheet["A3"].font.color.rgb == "FFC00000"
    assert worksheet["A3"].fill.fgColor.rgb == "FFFFFF00"
    assert worksheet.column_dimensions["A"].width == 21
    assert worksheet.freeze_panes == "A2"
    # Appended rows take the style of the row above (the first one of row 21's number format).
    first_appended = min(row["row"] for row in generated.rows if row["appended"])
    assert worksheet["A%d" % first_appended].number_format == "0"

    reread = load_study(path, reports, NAMES, "study_id")
    assert reread[3] == []
    assert task_counts(plan_tasks(reread[0], reread[1], NAMES, ["batch2"], "study_id"))["batch2"] \
        == generated.counts


def test_second_write_of_the_same_batch_is_refused_and_backups_do_not_collide(tmp_path):
    path, reports = sheet_for_generation(tmp_path)
    first = write_generated_batch(path, generate(path, reports, size=5)[1][0])
    generated, problems = generate(path, reports, size=5)[1]
    assert generated is None and "batch 'batch2' already exists" in problems[0]
    second = write_generated_batch(path, generate(path, reports, batch="batch3", size=5)[1][0])
    assert first != second and Path(first).exists() and Path(second).exists()


def test_apply_refuses_when_the_sheet_changed_since_planning(tmp_path):
    path, reports = sheet_for_generation(tmp_path)
    generated = generate(path, reports, size=3)[1][0]
    workbook = openpyxl.load_workbook(path)
    target = generated.rows[0]["row"]
    workbook.active.cell(row=target, column=2).value = "someone else's batch"
    with pytest.raises(SheetChangedError, match="row %d" % target):
        apply_generated_batch(workbook.active, generated)


# --- the shipped example study --------------------------------------------------------------------

def test_example_study_has_the_original_shape():
    study_dir = REPO / "files" / "study"
    fields = referenced_fields((study_dir / "label-config.xml").read_text())
    sheet, reports, names, problems = load_study(
        str(study_dir / "assignments.xlsx"), str(study_dir / "reports.json"), NAMES, "study_id",
        fields)
    assert problems == []
    assert len(reports) == 140
    batches, _ = resolve_batches(sheet, "all")
    counts = task_counts(plan_tasks(sheet, reports, names, batches, "study_id"))
    assert counts == {"batch0": dict.fromkeys(NAMES, 10), "batch1": dict.fromkeys(NAMES, 10),
                      "batch2": dict.fromkeys(NAMES, 50)}
    assert sum(1 for row in sheet.rows if row.batch is None) == 20
    assert sum(1 for row in sheet.rows if row.batch == "batch2") == 100
    # The original sheet's training rows: `55187337  batch0  all  all  <empty>`.
    assert {tuple(row.annotator_values()) for row in sheet.rows
            if row.batch in ("batch0", "batch1")} == {(ALL, ALL)}
    assert sheet_warnings(sheet) == []


def test_example_study_is_reproducible(tmp_path):
    subprocess.run([sys.executable, str(REPO / "tools" / "make-example-study"), "--out",
                    str(tmp_path)], check=True, capture_output=True)
    for name in ("reports.json", "assignments.xlsx"):
        assert (tmp_path / name).read_bytes() == (REPO / "files/study" / name).read_bytes(), (
            "%s differs from tools/make-example-study's output: regenerate it" % name)


def test_example_batch2_is_what_the_generator_makes_from_the_sheet_without_it(tmp_path):
    """So `generate-assignments.yml -e batch=batch2 -e size=100 -e per_report=3 -e seed=42`
    on the example without batch2 gives the shipped batch2."""
    path = tmp_path / "assignments.xlsx"
    shutil.copy(REPO / "files/study/assignments.xlsx", path)
    reports = str(REPO / "files/study/reports.json")
    workbook = openpyxl.load_workbook(path)
    shipped = {}
    for row in workbook.active.iter_rows(min_row=2):
        if row[1].value == "batch2":
            shipped[row[0].value] = [cell.value for cell in row[2:5]]
            for cell in row[1:5]:
                cell.value = None
    workbook.save(path)
    generated = generate(str(path), reports, batch="batch2", size=100, per_report=3,
                         seed="42")[1][0]
    assert {row["id"]: row["annotators"] for row in generated.rows} == shipped


def test_new_annotator_columns_are_numbered_after_the_highest(tmp_path):
    reports = write_reports(tmp_path / "reports.json", [record(n) for n in range(1, 9)])
    path = write_sheet(tmp_path / "assignments.xlsx", [[1, "batch0", "all"]],
                       header=("id", "batch", "a1", "a5", "notes"))
    sheet, (generated, problems) = generate(path, reports, size=6, per_report=4)
    assert problems == []
    assert generated.new_columns == [{"column": "F", "index": 6, "name": "a6"},
                                     {"column": "G", "index": 7, "name": "a7"}]
    write_generated_batch(path, generated)
    reread = read_sheet(path)
    assert [c.name for c in reread.annotator_columns] == ["a1", "a5", "a6", "a7"]
    assert all(len(row.annotator_values()) == 4 for row in reread.rows if row.batch == "batch2")


# --- names that become file names (issue 13, item 6) ------------------------------------------

@pytest.mark.parametrize("batch, why", [("../../x", "holds '/'"), ("a/b", "holds '/'"),
                                        (".hidden", "starts with '.'"), ("b:1", "holds ':'")])
def test_unsafe_batch_names_are_refused_at_their_first_row(study, batch, why):
    problems = messages(study([[1, "batch0", "all"], [2, batch, "annotator1"], [3, batch, "all"]]))
    assert len(problems) == 1, problems
    assert "assignments.xlsx row 3, column B (batch): '%s' %s" % (batch, why) in problems[0], problems


def test_batches_equal_ignoring_case_are_refused(study):
    problems = messages(study([[1, "batch1", "all"], [2, "Batch1", "annotator1"], [3, "Batch1", "all"]]))
    assert len(problems) == 1 and "row 3, column B (batch): batch 'Batch1' differs from 'batch1' " \
        "(row 2) only in case" in problems[0], problems


def test_unsafe_and_reserved_annotator_names_are_refused(study):
    names = ["annotator1", "users", "x.full", "a/b", "Annotator1", {"name": ".x", "email": "x@example.org"}]
    problems = messages(study([[1, "b", "annotator1"]], names=names))
    assert [p.split(":")[0] for p in problems] == ["annotators item %d" % n for n in (2, 3, 4, 6, 5)], problems
    assert "'users' is reserved" in problems[0] and "'x.full' is reserved" in problems[1]
    assert "'a/b' holds '/'" in problems[2] and "'.x' starts with '.'" in problems[3]
    assert "'Annotator1' differs from 'annotator1' (item 1) only in case" in problems[4]


def test_task_files_that_would_be_one_are_found():
    from ansible.module_utils.study_assignment_plan import task_file_clashes, task_file_path
    assert task_file_clashes(["a-b", "a"], ["c", "b-c"]) == [
        "batch 'a' of annotator 'b-c' and batch 'a-b' of annotator 'c' would share the task file "
        "a-b-c-tasks.json; rename a batch or an annotator"]
    assert task_file_clashes(["b1", "b2"], ["x", "y"]) == []
    with pytest.raises(ValueError):
        task_file_path("/tmp/tasks", "../..", "x")
