"""study_merge_annotations run by real Ansible on the controller, over the real export fixtures.

No server needed: the inputs are full JSON exports saved from Label Studio 1.23.2
(tests/unit/fixtures). What is checked here is the module's contract: files written privately and
atomically, changed only when content differs, check mode writes nothing, bad input writes nothing.
"""
from __future__ import annotations

import csv
import io
import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests/unit/fixtures"
NAMES = ("20261127-annotations.csv", "20261127-annotations.xlsx", "20261127-unannotated.csv")


def run_module(args: dict, *flags: str):
    """(returncode, result dict) of `ansible localhost -m study_merge_annotations`."""
    env = dict(os.environ, ANSIBLE_CALLBACK_RESULT_FORMAT="json", ANSIBLE_NOCOLOR="1",
               ANSIBLE_FORCE_COLOR="0")
    proc = subprocess.run(["ansible", "localhost", "-m", "study_merge_annotations",
                           "-a", json.dumps(args), *flags],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    output = proc.stdout
    assert "=> " in output, output + proc.stderr
    body = output[output.index("=> ") + 3:]
    result = json.JSONDecoder().raw_decode(body)[0]
    return proc.returncode, result


@pytest.fixture()
def inputs(tmp_path):
    """Copies of the fixtures (tests may edit them) and the module arguments."""
    source = tmp_path / "in"
    source.mkdir()
    for name in ("export-full-annotator1.json", "export-full-annotator2.json", "users.json",
                 "export-min-api-annotator1.json"):
        shutil.copy(FIXTURES / name, source / name)
    args = {
        "exports": [{"annotator": "annotator1", "path": str(source / "export-full-annotator1.json")},
                    {"annotator": "annotator2", "path": str(source / "export-full-annotator2.json")}],
        "users": str(source / "users.json"),
        "dest_dir": str(tmp_path / "out"),
        "date": "20261127",
    }
    return source, args


def snapshot(directory: Path) -> dict:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(directory.iterdir())}


def test_writes_private_tables_once_then_reports_no_change(inputs):
    _source, args = inputs
    out = Path(args["dest_dir"])

    rc, result = run_module(args, "--check")
    assert rc == 0 and result["changed"] is True, result
    assert not out.exists(), "check mode must not create anything"

    rc, result = run_module(args)
    assert rc == 0 and result["changed"] is True, result
    assert sorted(os.listdir(out)) == sorted(NAMES)
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    assert {stat.S_IMODE((out / name).stat().st_mode) for name in NAMES} == {0o600}
    assert (result["rows"], result["unannotated"], result["unknown_user_ids"]) == (16, 3, [])
    assert result["annotators"]["annotator2"] == {
        "rows": 6, "annotations": 3, "skipped": 1, "unannotated_tasks": 1}
    table = list(csv.DictReader(io.StringIO((out / NAMES[0]).read_text(encoding="utf-8"), newline="")))
    assert len(table) == 16
    assert {row["study_id"] for row in table} == {"50000001", "50000002", "50000003"}
    missing = list(csv.DictReader(io.StringIO((out / NAMES[2]).read_text(encoding="utf-8"))))
    assert [(row["annotator"], row["study_id"], row["status"]) for row in missing] == [
        ("annotator1", "50000002", "skipped only"), ("annotator1", "50000003", "unannotated"),
        ("annotator2", "50000003", "skipped only")]

    before = snapshot(out)
    rc, result = run_module(args)
    assert rc == 0 and result["changed"] is False, result
    assert [item["changed"] for item in result["files"]] == [False, False, False]
    rc, result = run_module(args, "--check", "--diff")
    assert rc == 0 and result["changed"] is False, result
    assert snapshot(out) == before, "an unchanged re-run must not rewrite the files"


def test_only_the_files_whose_content_changes_are_rewritten(inputs):
    source, args = inputs
    out = Path(args["dest_dir"])
    assert run_module(args)[0] == 0
    before = snapshot(out)

    path = source / "export-full-annotator1.json"
    records = json.loads(path.read_text())
    records[0]["annotations"][0]["result"][5]["value"]["text"] = ["5"]  # duration-minutes 4 -> 5
    path.write_text(json.dumps(records))
    rc, result = run_module(args)
    assert rc == 0 and result["changed"] is True, result
    assert [item["changed"] for item in result["files"]] == [True, True, False]
    after = snapshot(out)
    assert after[NAMES[2]] == before[NAMES[2]]
    assert after[NAMES[0]][0] != before[NAMES[0]][0]


@pytest.mark.parametrize("breakage, message", [
    ("drop-study-id", "export-full-annotator2.json: annotator2: task 5: data field 'study_id'"),
    ("json-min", "export-min-api-annotator1.json: annotator2: task 1: not a full JSON export task"),
    ("not-json", "annotator2's export %s: not valid JSON"),
    ("bad-date", "date must be YYYYMMDD"),
])
def test_bad_input_fails_naming_it_and_leaves_the_previous_files(inputs, breakage, message):
    source, args = inputs
    out = Path(args["dest_dir"])
    assert run_module(args)[0] == 0
    before = snapshot(out)

    second = source / "export-full-annotator2.json"
    if breakage == "drop-study-id":
        records = json.loads(second.read_text())
        del records[1]["data"]["study_id"]
        second.write_text(json.dumps(records))
    elif breakage == "json-min":
        args["exports"][1]["path"] = str(source / "export-min-api-annotator1.json")
    elif breakage == "not-json":
        second.write_text("[{\"id\": 4,")
    else:
        args["date"] = "2026-11-27"
    # A different date too: nothing new may appear either.
    if breakage != "bad-date":
        args["date"] = "20261128"
    rc, result = run_module(args)
    assert rc != 0, result
    assert message.replace("%s", str(second)) in result["msg"], result["msg"]
    assert snapshot(out) == before


def test_a_bundle_gives_the_same_tables_and_each_export_byte_for_byte(inputs, tmp_path):
    """export.yml's form (issue 16): one file with every export, full export and the accounts."""
    source, args = inputs
    min_text = (source / "export-min-api-annotator1.json").read_text(encoding="utf-8")
    bundle = {"exports": [
        {"name": "annotator1", "project_id": 1, "file": min_text,
         "full": json.loads((source / "export-full-annotator1.json").read_text(encoding="utf-8"))},
        {"name": "annotator2", "project_id": 2, "file": "[]",
         "full": json.loads((source / "export-full-annotator2.json").read_text(encoding="utf-8"))}],
        "users": json.loads((source / "users.json").read_text(encoding="utf-8"))}
    (source / "bundle.json").write_text(json.dumps(bundle, ensure_ascii=False), encoding="utf-8")
    rc, _result = run_module(args)
    assert rc == 0
    from_files = snapshot(Path(args["dest_dir"]))
    by_bundle = {"bundle": str(source / "bundle.json"), "dest_dir": str(tmp_path / "bundled"),
                 "date": "20261127"}
    rc, result = run_module(by_bundle)
    assert rc == 0 and result["changed"] is True, result
    out = tmp_path / "bundled"
    assert (out / "20261127-annotator1.json").read_bytes() == min_text.encode("utf-8")
    assert (out / "20261127-annotator2.json").read_bytes() == b"[]"
    assert {stat.S_IMODE(p.stat().st_mode) for p in out.iterdir()} == {0o600}
    assert {name: content for name, (content, _m) in snapshot(out).items() if name in NAMES} == \
        {name: content for name, (content, _m) in from_files.items()}
    before = snapshot(out)
    rc, result = run_module(by_bundle)
    assert rc == 0 and result["changed"] is False and snapshot(out) == before, result
