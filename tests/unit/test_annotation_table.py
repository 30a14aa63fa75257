"""The merged annotation table, from real Label Studio 1.23.2 exports (synthetic text).

Fixtures (tests/unit/fixtures, see README.md there): two annotator projects "RRS: annotator1" and
"RRS: annotator2" with the study's label config and the same three tasks (study ids 50000001..3).
annotator1 (account 1): task 1 fully annotated, task 2 skipped, task 3 untouched.
annotator2: task 4 submitted empty (account 2), task 5 annotated by account 2 AND by account 1
(one annotator, two accounts), task 6 skipped (account 2).
"""
from __future__ import annotations

import copy
import csv
import datetime
import io
import json
import os
import random
import stat
import zipfile
from pathlib import Path

import pytest

from support.paths import REPO
from ansible.module_utils.annotation_table import (
    ROW_COLUMNS, UNANNOTATED_COLUMNS, AnnotationTableError, annotator_summary, build_tables,
    candidate_model, unknown_user_ids, user_emails)
from support.annotation_compare import (  # noqa: E402
    controls_from_label_config, json_min_view, tables_from_json_min)
from ansible.module_utils.atomic_files import file_differs, write_all_atomic, write_atomic  # noqa: E402
from ansible.module_utils.table_files import csv_bytes, xlsx_bytes  # noqa: E402

FIXTURES = Path(__file__).resolve().parent / "fixtures"
ANNOTATORS = ("annotator1", "annotator2")
LABEL_CONFIG = (REPO / "files/study/label-config.xml").read_text()

ADMIN = "admin@label-studio.local"
SECOND = "second.account@example.org"
T1 = ("2026-11-27T17:25:15.968165Z", "2026-11-27T17:25:15.968208Z", 95.25)
# The values annotations hold (and so JSON_MIN): the labels' aliases and the choices' values
# (the "5. Other ..." choice's alias), as in the original study's exports.
OMIT_1A = "1a"
LOCATION = "3. Incorrect location/position of finding"
SEVERITY = "4. Incorrect severity of finding"
OTHER = "other"
# Every fixture task's order: candidate{i} was written by ORDER[i].
ORDER = ["wgsum", "bertabs", "wgsum+cl", "gsum_thresholding"]

# study_id, batch, annotator, email, user id, model, control, to_name, kind, value, start, end,
# span_text, region_id, task_id, annotation_id, created_at, updated_at, lead_time -- in the
# table's order.
EXPECTED_ROWS = [
    (50000001, "batch0", "annotator1", ADMIN, 1, ORDER[0], "candidate0-errors", "candidate0",
     "choice", LOCATION, None, None, None, None, 1, 1, *T1),
    (50000001, "batch0", "annotator1", ADMIN, 1, ORDER[0], "candidate0-errors", "candidate0",
     "choice", OTHER, None, None, None, None, 1, 1, *T1),
    (50000001, "batch0", "annotator1", ADMIN, 1, ORDER[0], "candidate0-labels-omissions",
     "reference0", "span", OMIT_1A, 0, 17, "Mild cardiomegaly", "r1", 1, 1, *T1),
    (50000001, "batch0", "annotator1", ADMIN, 1, ORDER[1], "candidate1-labels-additions",
     "candidate1", "span", "2a", 21, 38, "New consolidation", "r2", 1, 1, *T1),
    (50000001, "batch0", "annotator1", ADMIN, 1, ORDER[1], "candidate1-labels-additions",
     "candidate1", "span", "2e", 21, 38, "New consolidation", "r2", 1, 1, *T1),
    (50000001, "batch0", "annotator1", ADMIN, 1, ORDER[2], "candidate2-errors", "candidate2",
     "choice", SEVERITY, None, None, None, None, 1, 1, *T1),
    # duration-minutes and remarks are about the report, not a candidate: no model.
    (50000001, "batch0", "annotator1", ADMIN, 1, None, "duration-minutes", "reference0", "text",
     "4", None, None, None, None, 1, 1, *T1),
    (50000001, "batch0", "annotator1", ADMIN, 1, ORDER[0], "errors-candidate0-other", "candidate0",
     "text", "synthetic: wrong lung named", None, None, None, None, 1, 1, *T1),
    (50000001, "batch0", "annotator1", ADMIN, 1, None, "remarks", "reference0", "text",
     'synthetic remark, with comma and "quote"\nsecond line \u00e9', None, None, None, None, 1, 1,
     *T1),
    (50000002, "batch0", "annotator1", ADMIN, 1, None, None, None, "skipped", None, None, None,
     None, None, 2, 2, "2026-11-27T17:25:16.046044Z", "2026-11-27T17:25:16.046072Z", 3.0),
    (50000001, "batch0", "annotator2", SECOND, 2, None, None, None, "none", None, None, None,
     None, None, 4, 3, "2026-11-27T17:25:16.110147Z", "2026-11-27T17:25:16.110190Z", 10.5),
    (50000002, "batch0", "annotator2", SECOND, 2, ORDER[1], "candidate1-labels-omissions",
     "reference1", "span", OMIT_1A, 0, 45, "Small left pleural effusion \u2014 slightly larger",
     "s2", 5, 4, "2026-11-27T17:25:16.448168Z", "2026-11-27T17:25:16.448200Z", 42.0),
    (50000002, "batch0", "annotator2", SECOND, 2, ORDER[3], "candidate3-labels-additions",
     "candidate3", "span", "2d", 29, 46, "follow-up advised", "s1", 5, 4,
     "2026-11-27T17:25:16.448168Z", "2026-11-27T17:25:16.448200Z", 42.0),
    (50000002, "batch0", "annotator2", SECOND, 2, None, "duration-minutes", "reference0", "text",
     "7", None, None, None, None, 5, 4, "2026-11-27T17:25:16.448168Z",
     "2026-11-27T17:25:16.448200Z", 42.0),
    # The same annotator's other account: still annotator2 (the project), with that account's email.
    (50000002, "batch0", "annotator2", ADMIN, 1, None, "duration-minutes", "reference0", "text",
     "2", None, None, None, None, 5, 5, "2026-11-27T17:25:16.503676Z",
     "2026-11-27T17:25:16.503817Z", 5.0),
    (50000003, "batch1", "annotator2", SECOND, 2, None, None, None, "skipped", None, None, None,
     None, None, 6, 6, "2026-11-27T17:25:16.555680Z", "2026-11-27T17:25:16.555757Z", None),
]

EXPECTED_UNANNOTATED = [
    {"study_id": 50000002, "batch": "batch0", "annotator": "annotator1", "task_id": 2,
     "status": "skipped only", "drafts": 0},
    {"study_id": 50000003, "batch": "batch1", "annotator": "annotator1", "task_id": 3,
     "status": "unannotated", "drafts": 0},
    {"study_id": 50000003, "batch": "batch1", "annotator": "annotator2", "task_id": 6,
     "status": "skipped only", "drafts": 0},
]


def load(name):
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def full_exports():
    return [(name, load("export-full-%s.json" % name)) for name in ANNOTATORS]


def emails():
    return user_emails(load("users.json"))


def as_tuples(rows):
    return [tuple(row[column] for column in ROW_COLUMNS) for row in rows]


@pytest.fixture()
def tables():
    return build_tables(full_exports(), emails())


# ---------------------------------------------------------------------------------------------
# Rows


def test_rows_are_exactly_the_expected_ones(tables):
    rows, _ = tables
    assert as_tuples(rows) == EXPECTED_ROWS
    assert all(list(row) == list(ROW_COLUMNS) for row in rows)


def test_report_ids_are_study_ids_never_task_ids(tables):
    rows, unannotated = tables
    study_of_task = {task["id"]: task["data"]["study_id"]
                     for _name, records in full_exports() for task in records}
    for row in rows + unannotated:
        assert row["study_id"] == study_of_task[row["task_id"]]
        assert row["study_id"] != row["task_id"]
    assert {row["study_id"] for row in rows} == {50000001, 50000002, 50000003}


def test_annotator_is_the_project_not_the_account(tables):
    rows, _ = tables
    # Account 1 annotated in both projects; its rows belong to whichever project they are in.
    by_account = {(row["annotator"], row["annotator_email"]) for row in rows}
    assert by_account == {("annotator1", ADMIN), ("annotator2", SECOND), ("annotator2", ADMIN)}
    assert [row["annotator"] for row in rows if row["annotation_id"] == 5] == ["annotator2"]


def test_an_empty_submission_is_one_none_row_and_a_skip_one_skipped_row(tables):
    rows, _ = tables
    assert [(row["task_id"], row["kind"]) for row in rows if row["kind"] in ("none", "skipped")] == [
        (2, "skipped"), (4, "none"), (6, "skipped")]
    none_row = next(row for row in rows if row["kind"] == "none")
    assert none_row["control"] is None and none_row["value"] is None and none_row["lead_time"] == 10.5


def test_tasks_without_a_submitted_annotation_are_listed_with_their_status(tables):
    _, unannotated = tables
    assert unannotated == EXPECTED_UNANNOTATED
    assert all(list(task) == list(UNANNOTATED_COLUMNS) for task in unannotated)


def test_drafts_are_counted_for_unannotated_tasks():
    records = load("export-full-annotator1.json")
    # Shape of a draft in a real full export (a task with a draft and no annotation).
    records[2]["drafts"] = [{"id": 1, "user": ADMIN, "result": [], "lead_time": 2.0,
                             "was_postponed": False, "task": 3, "annotation": None}]
    _, unannotated = build_tables([("annotator1", records)], emails())
    assert [(task["task_id"], task["status"], task["drafts"]) for task in unannotated] == [
        (2, "skipped only", 0), (3, "unannotated", 1)]


def test_order_does_not_depend_on_the_order_of_tasks_annotations_or_results(tables):
    shuffled = copy.deepcopy(full_exports())
    rng = random.Random(5)
    for _name, records in shuffled:
        rng.shuffle(records)
        for task in records:
            rng.shuffle(task["annotations"])
            for annotation in task["annotations"]:
                rng.shuffle(annotation["result"])
    assert build_tables(shuffled, emails()) == tables


def test_annotators_are_listed_in_the_order_given():
    rows, unannotated = build_tables(list(reversed(full_exports())), emails())
    assert [row["annotator"] for row in rows][0] == "annotator2"
    assert [task["annotator"] for task in unannotated] == ["annotator2", "annotator1", "annotator1"]


def test_unknown_accounts_keep_their_id_and_an_empty_email():
    rows, _ = build_tables(full_exports(), {2: SECOND})
    assert unknown_user_ids(rows) == [1]
    assert {row["annotator_email"] for row in rows if row["annotator_user_id"] == 1} == {None}


def test_summary_counts(tables):
    assert annotator_summary(*tables) == {
        "annotator1": {"rows": 10, "annotations": 1, "skipped": 1, "unannotated_tasks": 2},
        "annotator2": {"rows": 6, "annotations": 3, "skipped": 1, "unannotated_tasks": 1},
    }


def result_item(**value):
    return {"from_name": "candidate0-labels-omissions", "to_name": "reference0", "type": "labels",
            "value": value}


def one_task(result, key="study_id"):
    return [{"id": 9, "data": {key: "s-1", "batch": "batch2"}, "annotations": [
        {"id": 70, "completed_by": 2, "result": result, "was_cancelled": False,
         "created_at": "c", "updated_at": "u", "lead_time": 1.0}]}]


def test_a_region_whose_labels_were_removed_is_kept_and_relations_are_left_out():
    result = [result_item(start=3, end=5, text="ab", labels=[]),
              {"type": "relation", "from_id": "a", "to_id": "b", "direction": "right"}]
    rows, _ = build_tables([("a", one_task(result))], {})
    assert [(row["kind"], row["value"], row["start"], row["span_text"]) for row in rows] == [
        ("span", None, 3, "ab")]


def test_only_relations_still_shows_the_annotation():
    rows, _ = build_tables([("a", one_task([{"type": "relation", "from_id": "a", "to_id": "b"}]))], {})
    assert [row["kind"] for row in rows] == ["none"]


@pytest.mark.parametrize("control, model", [
    ("candidate0-labels-omissions", "m0"),
    ("candidate2-labels-additions", "m2"),
    ("candidate1-errors", "m1"),
    ("errors-candidate3-other", "m3"),
    ("candidate4-errors", None),       # no order[4]
    ("duration-minutes", None),        # about the report, not a candidate
    ("remarks", None),
    ("precandidate1-errors", None),    # not the study's naming
])
def test_model_is_order_i_of_the_candidate_a_control_is_about(control, model):
    assert candidate_model(control, ["m0", "m1", "m2", "m3"]) == model
    assert candidate_model(control, None) is None


def test_model_text_field_and_region_id_of_each_row():
    """Each report has its own order: the same control maps to another model per report."""
    tasks = [
        {"id": 1, "data": {"study_id": 10, "batch": "b", "order": ["x", "y"]}, "annotations": [
            {"id": 5, "completed_by": 2, "result": [
                {"id": "rA", "from_name": "candidate1-labels-omissions", "to_name": "reference1",
                 "type": "labels", "value": {"start": 0, "end": 2, "text": "ab", "labels": ["1b"]}},
                {"id": "rB", "from_name": "candidate0-errors", "to_name": "candidate0",
                 "type": "choices", "value": {"choices": ["other"]}},
                {"from_name": "remarks", "to_name": "reference0", "type": "textarea",
                 "value": {"text": ["r"]}}]}]},
        {"id": 2, "data": {"study_id": 11, "batch": "b", "order": ["y", "x"]}, "annotations": [
            {"id": 6, "completed_by": 2, "result": [
                {"id": "rC", "from_name": "candidate1-labels-additions", "to_name": "candidate1",
                 "type": "labels", "value": {"start": 3, "end": 4, "text": "c", "labels": ["2e"]}}]}]},
        {"id": 3, "data": {"study_id": 12, "batch": "b"}, "annotations": [   # no order
            {"id": 7, "completed_by": 2, "result": [
                {"id": "rD", "from_name": "candidate0-labels-additions", "to_name": "candidate0",
                 "type": "labels", "value": {"start": 0, "end": 1, "text": "d", "labels": ["2a"]}}]}]},
    ]
    rows, _ = build_tables([("a", tasks)], {})
    assert [(row["study_id"], row["model"], row["control"], row["to_name"], row["value"],
             row["region_id"]) for row in rows] == [
        (10, "x", "candidate0-errors", "candidate0", "other", "rB"),
        (10, "y", "candidate1-labels-omissions", "reference1", "1b", "rA"),
        (10, None, "remarks", "reference0", "r", None),
        (11, "x", "candidate1-labels-additions", "candidate1", "2e", "rC"),
        (12, None, "candidate0-labels-additions", "candidate0", "2a", "rD"),
    ]


def test_string_report_ids_and_another_key_field():
    rows, _ = build_tables([("a", one_task([], key="report"))], {}, key="report")
    assert [(row["study_id"], row["batch"]) for row in rows] == [("s-1", "batch2")]


# ---------------------------------------------------------------------------------------------
# Bad input: one clear message naming annotator, task, annotation


@pytest.mark.parametrize("mutate, message", [
    (lambda t: t[1]["data"].pop("study_id"),
     "annotator1: task 2: data field 'study_id' (the report id) is missing or empty"),
    (lambda t: t[0]["annotations"][0]["result"][2].update(type="rating"),
     "annotator1: task 1, annotation 1, result item 2 (control 'candidate0-errors'): "
     "result type 'rating' is not supported"),
    (lambda t: t[0]["annotations"][0]["result"][0]["value"].update(labels="1a"),
     "annotator1: task 1, annotation 1, result item 0 (control candidate0-labels-omissions): "
     "value.labels must be a list of strings"),
    (lambda t: t[0]["annotations"][0].update(completed_by="someone"),
     "annotator1: task 1, annotation 1: completed_by 'someone' is not a user id"),
    (lambda t: t[2].pop("annotations"),
     "annotator1: task 3: not a full JSON export task: needs a \"data\" object and an \"annotations\" list"),
])
def test_bad_exports_fail_naming_the_place(mutate, message):
    records = load("export-full-annotator1.json")
    mutate(records)
    with pytest.raises(AnnotationTableError) as err:
        build_tables([("annotator1", records)], emails())
    assert str(err.value).startswith(message)


def test_a_json_min_export_is_refused_as_full_json():
    with pytest.raises(AnnotationTableError, match=r"annotator1: task 1: .*\(this is a JSON_MIN export"):
        build_tables([("annotator1", load("export-min-api-annotator1.json"))], emails())


def test_an_annotator_listed_twice_is_refused():
    records = load("export-full-annotator1.json")
    with pytest.raises(AnnotationTableError, match="annotator1 is listed twice"):
        build_tables([("annotator1", records), ("annotator1", records)], emails())


def test_user_maps():
    assert user_emails(load("users.json")) == {1: ADMIN, 2: SECOND}
    assert user_emails({"1": ADMIN, 2: SECOND}) == {1: ADMIN, 2: SECOND}
    with pytest.raises(AnnotationTableError, match="'x' is not a user id"):
        user_emails({"x": ADMIN})
    with pytest.raises(AnnotationTableError, match="item 0 must be an object"):
        user_emails([{"email": ADMIN}])


# ---------------------------------------------------------------------------------------------
# Peer check: Label Studio's own JSON_MIN export of the same projects


def min_exports(source):
    return [(name, load("export-min-%s-%s.json" % (source, name))) for name in ANNOTATORS]


@pytest.mark.parametrize("source", ["cli", "api"])
def test_json_min_of_the_same_projects_gives_our_rows_where_it_can(tables, source):
    controls = controls_from_label_config(LABEL_CONFIG)
    assert tables_from_json_min(min_exports(source), controls, emails()) == json_min_view(*tables)


def test_what_json_min_cannot_provide(tables):
    controls = controls_from_label_config(LABEL_CONFIG)
    rows, unannotated = tables_from_json_min(min_exports("cli"), controls)
    # The CLI names the account by email and has no user id; skips vanish, skip-only tasks too.
    assert {row["annotator_user_id"] for row in rows} == {None}
    assert {row["annotator_email"] for row in rows} == {ADMIN, SECOND}
    assert "skipped" not in {row["kind"] for row in rows}
    assert [(task["task_id"], task["status"], task["drafts"]) for task in unannotated] == [
        (3, "unannotated", None)]
    ours = [dict(row, annotator_user_id=None) for row in json_min_view(*tables)[0]]
    assert rows == ours


def test_json_min_shapes_of_several_answers():
    controls = controls_from_label_config(LABEL_CONFIG)
    record = {"id": 9, "study_id": 7, "batch": "b", "annotator": 2, "annotation_id": 70,
              "created_at": "c", "updated_at": "u", "lead_time": 1.0,
              # one result item with two texts; two items of the same Choices control
              "remarks": {"text": ["first", "second"]},
              "candidate1-errors": [{"choices": [SEVERITY]}, {"choices": [OTHER]}]}
    rows, _ = tables_from_json_min([("a", [record])], controls, {2: SECOND})
    assert [(row["control"], row["kind"], row["value"]) for row in rows] == [
        ("candidate1-errors", "choice", SEVERITY),
        ("candidate1-errors", "choice", OTHER),
        ("remarks", "text", "first"),
        ("remarks", "text", "second"),
    ]


def test_controls_of_the_study_label_config():
    controls = controls_from_label_config(LABEL_CONFIG)
    assert len(controls) == 4 * 4 + 2
    assert controls["candidate3-labels-additions"] == "span"
    assert controls["candidate0-errors"] == "choice"
    assert controls["errors-candidate2-other"] == "text"
    assert controls["duration-minutes"] == controls["remarks"] == "text"


# ---------------------------------------------------------------------------------------------
# CSV and XLSX bytes

STAMP = datetime.date(2026, 11, 27)


def test_csv_is_utf8_crlf_without_bom_and_round_trips(tables):
    rows, _ = tables
    data = csv_bytes(ROW_COLUMNS, rows)
    assert data == csv_bytes(ROW_COLUMNS, copy.deepcopy(rows))
    assert data.startswith(b"study_id,batch,annotator,annotator_email,annotator_user_id,model,"
                           b"control,to_name,kind,value,start,end,span_text,region_id,task_id,")
    assert data.split(b"\r\n")[1] == (
        b"50000001,batch0,annotator1,admin@label-studio.local,1,wgsum,candidate0-errors,candidate0,"
        b"choice,3. Incorrect location/position of finding,,,,,1,1,2026-11-27T17:25:15.968165Z,"
        b"2026-11-27T17:25:15.968208Z,95.25")
    parsed = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    assert parsed[0] == list(ROW_COLUMNS)
    assert len(parsed) == len(rows) + 1
    remark = next(line for line in parsed if line[6] == "remarks")
    assert remark[9] == 'synthetic remark, with comma and "quote"\nsecond line \u00e9'
    assert parsed[1:] == [["" if value is None else str(value) for value in row] for row in EXPECTED_ROWS]


def test_xlsx_bytes_are_the_same_for_the_same_rows_and_carry_only_the_given_date(tables):
    from openpyxl import load_workbook

    rows, _ = tables
    data = xlsx_bytes(ROW_COLUMNS, rows, "annotations", STAMP)
    assert data == xlsx_bytes(ROW_COLUMNS, copy.deepcopy(rows), "annotations", STAMP)
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert {info.date_time for info in archive.infolist()} == {(2026, 11, 27, 0, 0, 0)}
    core = archive.read("docProps/core.xml").decode()
    assert core.count("2026-11-27T00:00:00Z") == 2  # created and modified, nothing else
    workbook = load_workbook(io.BytesIO(data))
    sheet = workbook["annotations"]
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert values[0] == list(ROW_COLUMNS)
    assert [tuple(row) for row in values[1:]] == EXPECTED_ROWS


def test_xlsx_stores_formula_like_and_control_characters_as_text():
    from openpyxl import load_workbook

    rows = [{"a": "=HYPERLINK(\"x\")", "b": "bell\x07here"}]
    workbook = load_workbook(io.BytesIO(xlsx_bytes(("a", "b"), rows, "t", STAMP)))
    cells = list(workbook["t"].iter_rows(min_row=2))[0]
    assert [cell.data_type for cell in cells] == ["s", "s"]
    assert [cell.value for cell in cells] == ["=HYPERLINK(\"x\")", "bell\ufffdhere"]


# ---------------------------------------------------------------------------------------------
# Atomic, private, change-aware writes


def test_write_atomic_creates_private_files_and_skips_identical_content(tmp_path):
    path = tmp_path / "t.csv"
    assert file_differs(str(path), b"one")
    assert write_atomic(str(path), b"one") is True
    assert path.read_bytes() == b"one"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    before = path.stat().st_mtime_ns
    assert not file_differs(str(path), b"one")
    assert write_atomic(str(path), b"one") is False
    assert path.stat().st_mtime_ns == before
    assert write_atomic(str(path), b"two") is True
    assert path.read_bytes() == b"two"
    assert os.listdir(tmp_path) == ["t.csv"]


def test_write_atomic_fixes_the_mode_of_an_identical_file(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(b"one")
    path.chmod(0o644)
    assert file_differs(str(path), b"one")
    assert write_atomic(str(path), b"one") is True
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "t.csv"
    write_atomic(str(path), b"old")

    def disk_full(_fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left"):
        write_atomic(str(path), b"new content")
    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["t.csv"]


def test_related_files_are_replaced_together_or_not_at_all(tmp_path, monkeypatch):
    first, second, same = tmp_path / "a.csv", tmp_path / "a.xlsx", tmp_path / "u.csv"
    assert write_all_atomic([(str(first), b"a1"), (str(second), b"b1"), (str(same), b"u")]) == [
        True, True, True]
    real_fsync = os.fsync
    calls = []

    def fail_on_second_file(fd):
        calls.append(fd)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fail_on_second_file)
    with pytest.raises(OSError, match="No space left"):
        write_all_atomic([(str(first), b"a2"), (str(second), b"b2"), (str(same), b"u")])
    assert (first.read_bytes(), second.read_bytes()) == (b"a1", b"b1")
    assert sorted(os.listdir(tmp_path)) == ["a.csv", "a.xlsx", "u.csv"]
    monkeypatch.setattr(os, "fsync", real_fsync)
    assert write_all_atomic([(str(first), b"a2"), (str(second), b"b2"), (str(same), b"u")]) == [
        True, True, False]
    assert (first.read_bytes(), second.read_bytes()) == (b"a2", b"b2")
