"""The study end to end on a real server: assign (issue 4), status, export + merged table (issue 5)."""
from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest

from support.files import assert_untouched, files_state
from support.modules import IMPORT_RUN
from support.playbook import REPO, unfolded

EXAMPLE = REPO / "files/study"
ANNOTATORS = [f"annotator{i}" for i in range(1, 7)]
DATE = "20261127"
# A text answer a spreadsheet would run as a formula (issue 13, item 5).
FORMULA = '=HYPERLINK("http://example.org/?leak","wrong laterality")'


def deploy_ahead(make_instance, tmp_path_factory):
    """The instance, not deployed yet: conftest.py deploys it (deployed_ahead)."""
    work = tmp_path_factory.mktemp("study")
    shutil.copy(EXAMPLE / "assignments.xlsx", work / "assignments.xlsx")
    inst = make_instance(study_assignments=str(work / "assignments.xlsx"),
                         study_task_files_dir=str(work / "tasks"),
                         study_export_dir=str(work / "exports"),
                         study_export_date=DATE, study_api_wait_seconds=3)
    inst.work = work
    return inst


@pytest.fixture(scope="module")
def study(deployed_ahead):
    """A fresh instance deployed with the example study (six annotator projects)."""
    (inst,), (run,) = deployed_ahead
    run.assert_ok()
    return inst


def projects(inst) -> dict[str, int]:
    return {p["title"]: p["id"] for p in inst.api("GET", "/api/projects/?page_size=1000")["results"]}


def tasks_of(inst, title: str) -> list[dict]:
    pid = projects(inst)[title]
    return inst.api("GET", f"/api/tasks/?project={pid}&page_size=10000&fields=task_only&include=id,data")["tasks"]


def sheet_assignments(path: Path) -> dict[str, set[tuple[int, str]]]:
    """{annotator: {(report id, batch)}} read straight from the sheet with openpyxl, not with the
    project's reader: each a-column cell names an annotator or says all."""
    rows = list(openpyxl.load_workbook(path, read_only=True).worksheets[0].iter_rows(values_only=True))
    header = [str(h or "").strip().lower() for h in rows[0]]
    id_col, batch_col = header.index("id"), header.index("batch")
    given: dict[str, set[tuple[int, str]]] = {name: set() for name in ANNOTATORS}
    for row in rows[1:]:
        cells = [str(row[i]).strip() for i, h in enumerate(header)
                 if re.fullmatch(r"a[0-9]+", h) and row[i] not in (None, "")]
        for cell in cells:
            for name in (ANNOTATORS if cell == "all" else [cell]):
                given[name].add((int(row[id_col]), str(row[batch_col])))
    return given


def assigned_on_server(inst) -> dict[str, set[tuple[int, str]]]:
    """{annotator: {(report id, batch)}} of the tasks in each annotator's own project."""
    return {name: {(task["data"]["study_id"], task["data"]["batch"]) for task in tasks_of(inst, f"RRS: {name}")}
            for name in ANNOTATORS}


def batch_counts(inst) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    for name in ANNOTATORS:
        for task in tasks_of(inst, f"RRS: {name}"):
            batch = counts.setdefault(task["data"]["batch"], {})
            batch[name] = batch.get(name, 0) + 1
    return counts


def assign(inst, tmp_path, batch, **kwargs):
    """assign.yml with the controller's temp dir in tmp_path; checks that no transfer file is left
    there or in the node's state dir (the tasks' text must not stay behind, also on failure)."""
    temp = tmp_path / "controller-tmp"
    temp.mkdir(exist_ok=True)
    # This run's own remote temp dir: ~/.ansible/tmp is shared with the other tests' runs, whose
    # import tasks may hold a bundle.json there at this very moment.
    remote_tmp = tmp_path / "node-tmp"
    run = inst.playbook("playbooks/assign.yml", {"batch": batch, **kwargs.pop("more", {})},
                        env={"TMPDIR": str(temp), "ANSIBLE_REMOTE_TMP": str(remote_tmp)}, **kwargs)
    assert list(temp.iterdir()) == []
    assert [p.name for p in inst.state_dir.iterdir() if "assign" in p.name] == []
    # The node's copy travels in the import task's own temp dir (label_studio_tasks' action
    # plugin), which is removed with what it held.
    assert not remote_tmp.exists() or list(remote_tmp.rglob("*")) == []
    return run


def test_a_bad_row_imports_nothing_anywhere(study, tmp_path):
    bad = tmp_path / "bad.xlsx"
    shutil.copy(EXAMPLE / "assignments.xlsx", bad)
    book = openpyxl.load_workbook(bad)
    sheet = book.active
    headers = [c.value for c in sheet[1]]
    row = next(r for r in range(2, sheet.max_row + 1) if sheet.cell(r, headers.index("batch") + 1).value == "batch2")
    column = headers.index("a2") + 1
    sheet.cell(row, column).value = "anotator2"
    book.save(bad)
    task_files = files_state(study.work / "tasks")
    run = assign(study, tmp_path, "all", more={"study_assignments": str(bad)})
    assert run.returncode != 0
    letter = openpyxl.utils.get_column_letter(column)
    assert (f"bad.xlsx row {row}, column {letter} (a2): unknown annotator 'anotator2'"
            in unfolded(run.output)), run.output[-3000:]
    assert "did you mean 'annotator2'" in run.output
    assert all(tasks_of(study, f"RRS: {name}") == [] for name in ANNOTATORS)
    assert_untouched(task_files, study.work / "tasks")  # no task file either


def test_the_last_annotators_bad_import_stops_everyone_in_one_module_run(study, tmp_path):
    """Issue 16: one label_studio_tasks run checks every annotator's import against its project
    before any is written. The sheet is fine; only the last annotator's project (its own label
    config, on the server) wants a field the reports lack: nobody gets anything."""
    last = f"RRS: {ANNOTATORS[-1]}"
    pid = projects(study)[last]
    config = study.api("GET", f"/api/projects/{pid}/")["label_config"]
    wanting = config[:config.rindex("</View>")] + '<Text name="extra" value="$not_in_any_report"/></View>'
    study.api("PATCH", f"/api/projects/{pid}/", {"label_config": wanting})
    task_files = files_state(study.work / "tasks")
    try:
        run = assign(study, tmp_path, "batch0", extra_args=["-vvv"])
    finally:
        study.api("PATCH", f"/api/projects/{pid}/", {"label_config": config})
    assert run.returncode != 0
    assert f"project {last!r}" in run.output and "not_in_any_report" in run.output, run.output[-3000:]
    assert all(tasks_of(study, f"RRS: {name}") == [] for name in ANNOTATORS)
    # Nor the controller's record of what was assigned: the task files come after the import.
    assert_untouched(task_files, study.work / "tasks")
    # One run for all annotators: ansible -vvv names the module's file once per module run (with
    # pipelining too); on the local connection (this study's) the action plugin runs the work in
    # Ansible's own process and says so instead.
    runs = re.findall(IMPORT_RUN, run.output)
    assert runs == ["label_studio_tasks: the local connection, run in Ansible's own process"], runs


def test_original_study_shape_is_assigned_batch_by_batch(study, tmp_path):
    # Every annotator gets as many tasks as the others: which reports land in which project is
    # what tells a mix-up of annotators, so the projects are compared with the sheet itself.
    sheet = sheet_assignments(study.work / "assignments.xlsx")
    assign(study, tmp_path, "batch0").assert_ok()
    assert batch_counts(study) == {"batch0": {n: 10 for n in ANNOTATORS}}
    assert assigned_on_server(study) == {n: {r for r in sheet[n] if r[1] == "batch0"} for n in ANNOTATORS}
    task_files = files_state(study.work / "tasks")
    preview = assign(study, tmp_path, "all", check=True, diff=True).assert_ok()
    assert preview.output.count("+ 60 task(s)") == 6  # batch1 (10) + batch2 (50) per annotator
    assert batch_counts(study) == {"batch0": {n: 10 for n in ANNOTATORS}}
    assert_untouched(task_files, study.work / "tasks")  # --check writes no task file either
    study.playbook("playbooks/assign.yml", {"batch": "all"}).assert_ok()
    assert batch_counts(study) == {"batch0": {n: 10 for n in ANNOTATORS}, "batch1": {n: 10 for n in ANNOTATORS},
                                   "batch2": {n: 50 for n in ANNOTATORS}}
    assert assigned_on_server(study) == sheet
    written = files_state(study.work / "tasks")
    study.playbook("playbooks/assign.yml", {"batch": "all"}).assert_unchanged()
    assert_untouched(written, study.work / "tasks")  # no task file rewritten either
    files = sorted(p.name for p in (study.work / "tasks").iterdir())
    assert "batch2-annotator3-tasks.json" in files and len(files) == 18


def test_a_generated_batch_adds_only_its_new_tasks(study):
    study.playbook("playbooks/generate-assignments.yml",
                   {"batch": "batch3", "size": 12, "per_report": 2, "seed": 7}).assert_ok()
    before = batch_counts(study)
    run = study.playbook("playbooks/assign.yml", {"batch": "all"}).assert_ok()
    after = batch_counts(study)
    assert {b: c for b, c in after.items() if b != "batch3"} == before
    assert sorted(after["batch3"].values()) == [4] * 6  # 12 reports x 2 / 6 annotators
    assert assigned_on_server(study) == sheet_assignments(study.work / "assignments.xlsx")
    assert run.changed > 0
    written = files_state(study.work / "tasks", study.work / "assignments.xlsx")
    study.playbook("playbooks/assign.yml", {"batch": "batch3"}).assert_unchanged()
    assert_untouched(written, study.work / "tasks", study.work / "assignments.xlsx")


@pytest.fixture(scope="module")
def annotated(study):
    """Two accounts annotate in two annotator projects; returns what was created."""
    users = {name: study.api("POST", "/api/users/", {"email": f"{name}@example.org", "username": name})["id"]
             for name in ("annotator1", "annotator2")}
    t1 = sorted(tasks_of(study, "RRS: annotator1"), key=lambda t: t["data"]["study_id"])
    t2 = sorted(tasks_of(study, "RRS: annotator2"), key=lambda t: t["data"]["study_id"])
    span_text = t1[0]["data"]["impression"].split()[0]
    post = lambda task, body: study.api("POST", f"/api/tasks/{task['id']}/annotations/", body)  # noqa: E731
    a1 = post(t1[0], {"completed_by": users["annotator1"], "result": [
        {"id": "span-1", "from_name": "candidate0-labels-omissions", "to_name": "reference0",
         "type": "labels", "value": {"start": 0, "end": len(span_text), "text": span_text,
                                     "labels": ["1a"]}},
        {"from_name": "candidate2-errors", "to_name": "candidate2", "type": "choices",
         "value": {"choices": ["3. Incorrect location/position of finding", "other"]}},
        {"from_name": "errors-candidate2-other", "to_name": "candidate2", "type": "textarea",
         "value": {"text": [FORMULA]}},
        {"from_name": "duration-minutes", "to_name": "reference0", "type": "textarea", "value": {"text": ["6"]}}]})
    skipped = post(t1[1], {"completed_by": users["annotator1"], "result": [], "was_cancelled": True})
    a2 = post(t2[0], {"completed_by": users["annotator2"], "result": [
        {"from_name": "duration-minutes", "to_name": "reference0", "type": "textarea", "value": {"text": ["3"]}}]})
    return {"users": users, "t1": t1, "t2": t2, "a1": a1, "a2": a2, "skipped": skipped, "span": span_text}


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_status_counts_match_the_annotations(study, annotated):
    run = study.playbook("playbooks/status.yml").assert_unchanged()
    table = [line.strip(" -'").split() for line in run.output.splitlines()]
    assert ["batch0", "annotator1", "10", "1", "1", "8"] in table, run.output[-3000:]
    assert ["batch0", "annotator2", "10", "1", "0", "9"] in table
    assert ["batch2", "annotator1", "50", "0", "0", "50"] in table
    shared = {t["data"]["study_id"] for t in annotated["t1"][:1]} & {t["data"]["study_id"] for t in annotated["t2"][:1]}
    assert f"batch0: {len(shared)} report(s) with >= 2 finished annotations" in run.output


def private_files(directory: Path) -> dict[str, str]:
    return {str(p.relative_to(directory)): oct(p.stat().st_mode & 0o777) for p in directory.rglob("*") if p.is_file()}


def test_export_brings_everything_home(study, annotated):
    # The usual umask, not a restrictive one: every file must be 0600 by itself (issue 13, item 8).
    old_umask = os.umask(0o022)
    try:
        first = study.playbook("export.yml").assert_ok()
    finally:
        os.umask(old_umask)
    out = study.work / "exports"
    # Temporary full exports are gone from the node and the controller; Label Studio's own copies too.
    assert not (study.state_dir / "exports").exists()
    assert not [p for p in (out / ".incoming").rglob("*") if p.is_file()]
    assert not list((study.data_dir / "export").glob("project-*"))
    assert set(private_files(out).values()) == {"0o600"}, private_files(out)
    # Per annotator: exactly what Label Studio's API returns for the project.
    for name in ANNOTATORS:
        pid = projects(study)[f"RRS: {name}"]
        ours = json.loads((out / f"{DATE}-{name}.json").read_text())
        theirs = study.api("GET", f"/api/projects/{pid}/export?exportType=JSON_MIN")
        assert ours == theirs, name
        assert oct((out / f"{DATE}-{name}.json").stat().st_mode & 0o777) == "0o600"
    rows = read_csv(out / f"{DATE}-annotations.csv")
    t1, t2, a1, a2 = annotated["t1"], annotated["t2"], annotated["a1"], annotated["a2"]
    sid1, sid2 = str(t1[0]["data"]["study_id"]), str(t2[0]["data"]["study_id"])
    got = [(r["study_id"], r["annotator"], r["annotator_email"], r["control"], r["kind"], r["value"],
            r["start"], r["end"], r["span_text"], r["task_id"], r["annotation_id"]) for r in rows]
    assert got == sorted([
        (sid1, "annotator1", "annotator1@example.org", "candidate0-labels-omissions", "span",
         "1a", "0", str(len(annotated["span"])), annotated["span"],
         str(t1[0]["id"]), str(a1["id"])),
        (sid1, "annotator1", "annotator1@example.org", "candidate2-errors", "choice",
         "3. Incorrect location/position of finding", "", "", "", str(t1[0]["id"]), str(a1["id"])),
        (sid1, "annotator1", "annotator1@example.org", "candidate2-errors", "choice", "other", "", "", "",
         str(t1[0]["id"]), str(a1["id"])),
        (sid1, "annotator1", "annotator1@example.org", "duration-minutes", "text", "6", "", "", "",
         str(t1[0]["id"]), str(a1["id"])),
        (sid1, "annotator1", "annotator1@example.org", "errors-candidate2-other", "text", "'" + FORMULA,
         "", "", "", str(t1[0]["id"]), str(a1["id"])),
        (str(t1[1]["data"]["study_id"]), "annotator1", "annotator1@example.org", "", "skipped", "", "", "", "",
         str(t1[1]["id"]), str(annotated["skipped"]["id"])),
        (sid2, "annotator2", "annotator2@example.org", "duration-minutes", "text", "3", "", "", "",
         str(t2[0]["id"]), str(a2["id"])),
    ], key=lambda r: (r[1], int(r[0]), r[3], r[5]))
    assert all(r["batch"] == "batch0" for r in rows)
    # Candidate i's answers name order[i] of their report; the span keeps its text field and
    # region id; duration, remarks and skips are about no candidate.
    order = t1[0]["data"]["order"]
    assert [(r["control"], r["model"], r["to_name"], r["region_id"]) for r in rows] == [
        ("candidate0-labels-omissions", order[0], "reference0", "span-1"),
        ("candidate2-errors", order[2], "candidate2", ""),
        ("candidate2-errors", order[2], "candidate2", ""),
        ("duration-minutes", "", "reference0", ""),
        ("errors-candidate2-other", order[2], "candidate2", ""),
        ("", "", "", ""),
        ("duration-minutes", "", "reference0", ""),
    ]
    task_ids = {str(t["id"]) for t in t1 + t2}
    assert not {r["study_id"] for r in rows} & task_ids, "report ids must be the study's own"
    unannotated = read_csv(out / f"{DATE}-unannotated.csv")
    mine = [u for u in unannotated if u["annotator"] == "annotator1"]
    assert len(mine) == len(t1) - 1  # all but the annotated one; the skipped one is "skipped only"
    assert {u["status"] for u in mine if u["study_id"] == str(t1[1]["data"]["study_id"])} == {"skipped only"}
    sheet = openpyxl.load_workbook(out / f"{DATE}-annotations.xlsx")["annotations"]
    assert FORMULA in [cell.value for row in sheet.iter_rows(min_row=2) for cell in row]  # exact text
    assert first.changed > 0
    exported = files_state(out)
    study.playbook("export.yml").assert_unchanged()
    assert_untouched(exported, out)  # every export file: same bytes, same mtime
    study.playbook("export.yml", check=True, diff=True).assert_unchanged()
    assert_untouched(exported, out)
    assert not (study.state_dir / "exports").exists()


def test_stopped_server_fails_and_keeps_old_files(study, annotated):
    out = study.work / "exports"
    before = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in out.iterdir() if p.is_file()}
    assert before
    study.stop().assert_ok()
    try:
        run = study.playbook("export.yml")
        assert run.returncode != 0 and "not reachable" in run.output
        after = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in out.iterdir() if p.is_file()}
        assert after == before
    finally:
        study.deploy().assert_ok()


def test_merged_table_matches_label_studios_own_cli_export(study, annotated, tmp_path):
    """Peer check on format: the CSV tables export.yml wrote, read back from disk, hold what Label
    Studio's own CLI JSON_MIN export shows (where JSON_MIN can show it: no skipped annotations,
    no drafts count)."""
    # Built apart from the merge: nothing of module_utils/annotation_table.py or table_files.py.
    from support.annotation_compare import controls_from_label_config, tables_from_json_min
    out = study.work / "exports"
    if not (out / f"{DATE}-annotations.csv").exists():  # this test run alone (-k)
        study.playbook("export.yml").assert_ok()
    env = dict(os.environ)
    for line in (study.state_dir / "service.env").read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            name, value = line.split("=", 1)
            env[name] = value.strip("'")
    controls = controls_from_label_config((EXAMPLE / "label-config.xml").read_text())
    emails = {user["id"]: user["email"] for user in study.api("GET", "/api/users/")}
    cli_exports = []
    for name in ("annotator1", "annotator2"):
        pid = projects(study)[f"RRS: {name}"]
        cli_file = tmp_path / f"{name}.json"
        subprocess.run([str(study.env_dir / "bin/label-studio"), "export", str(pid), "JSON_MIN",
                        f"--export-path={cli_file}"], env=env, check=True, capture_output=True, timeout=300)
        cli_exports.append((name, json.loads(cli_file.read_text())))
    rows, unannotated = tables_from_json_min(cli_exports, controls, emails)

    # JSON_MIN has neither the text a result is on nor the region's id: compared without them.
    json_min_lacks = ("to_name", "region_id")

    def csv_text(value):  # README: text a spreadsheet would run as a formula gets a leading "'"
        if value is None:
            return ""
        if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
            return "'" + value
        return str(value)

    def as_written(table):  # the CSV's view of each value
        return [{k: csv_text(v) for k, v in row.items() if k not in json_min_lacks} for row in table]

    written = [{k: v for k, v in r.items() if k not in json_min_lacks}
               for r in read_csv(out / f"{DATE}-annotations.csv") if r["kind"] != "skipped"]
    # Only annotator1 and annotator2 annotated: the CLI export of their two projects is all of it.
    assert {r["annotator"] for r in written} == {"annotator1", "annotator2"}
    assert len(rows) >= 5 and written, "nothing to compare"
    assert written == as_written(rows)
    written_unannotated = [dict(r, drafts="") for r in read_csv(out / f"{DATE}-unannotated.csv")
                           if r["annotator"] in ("annotator1", "annotator2") and r["status"] == "unannotated"]
    assert len(unannotated) > 50 and written_unannotated == as_written(unannotated)
