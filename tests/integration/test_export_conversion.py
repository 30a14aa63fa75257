"""export.yml asks Label Studio for ONE export per annotator (the full JSON export, every task)
and makes the annotator's file in study_export_format from it with Label Studio's own converter
on the node (issue 16). The file must be what the server's own export of that format gives:
checked here against the server's API export of the same project (JSON-equal; CSV same rows)."""
from __future__ import annotations

import csv
import io
import json
import os
import shutil
import urllib.request

import pytest

from support.modules import run_module
from support.playbook import REPO

CONFIG = (REPO / "files/study/label-config.xml").read_text()
FORMULA = '=HYPERLINK("http://example.org/?leak","wrong laterality")'


def conn(server) -> dict:
    return {"url": server.url, "token_file": str(server.credentials_dir / "api_token")}


def node_command(inst) -> list[str]:
    """label_studio_node_env + [the env's python] + label_studio_node_run (roles/label_studio_instance)."""
    return ["/usr/bin/env", f"PYTHONPATH={inst.state_dir / 'label_studio_node.zip'}",
            str(inst.env_dir / "bin/python"), "-B", "-m", "label_studio_node"]


def server_export(inst, pid: int, export_type: str) -> bytes:
    """The server's own API export of the project in export_type (annotated tasks only)."""
    req = urllib.request.Request(f"{inst.url}/api/projects/{pid}/export?exportType={export_type}",
                                 headers={"Authorization": "Token " + inst.token})
    with urllib.request.urlopen(req, timeout=300) as resp:
        return resp.read()


def report(key: int) -> dict:
    return {"study_id": key, "batch": "batch9", "impression": f"Größe ✓ no acute process {key} / ok.",
            "candidate0": "No acute cardiopulmonary process.", "candidate1": "Stable.",
            "candidate2": "Mild atelectasis.", "candidate3": "Unchanged.",
            "order": ["wgsum", "bertabs", "wgsum+cl", "gsum_thresholding"]}


@pytest.fixture(scope="module")
def annotated_project(server):
    """A project of its own on the shared server (unique title, removed afterwards): annotated,
    twice-annotated, skipped-only, annotated-and-skipped, empty-result and unannotated tasks."""
    title = f"export-conversion {os.getpid()}"
    res = run_module("label_studio_project", {"title": title, "label_config": CONFIG, **conn(server)})
    assert res["changed"] and res["project_id"], res.get("msg")
    pid = res["project_id"]
    run_module("label_studio_tasks", {"project": title, "tasks": [report(k) for k in range(21, 28)],
                                      **conn(server)})
    tasks = server.api("GET", f"/api/tasks/?project={pid}&page_size=1000&fields=task_only&include=id,data")
    by_key = {t["data"]["study_id"]: t["id"] for t in tasks["tasks"]}

    def post(key, body):
        server.api("POST", f"/api/tasks/{by_key[key]}/annotations/", {"lead_time": 12.3456789, **body})

    span = {"from_name": "candidate0-labels-omissions", "to_name": "reference0", "type": "labels",
            "value": {"start": 0, "end": 5, "text": "Größe", "labels": ["1a"]}}
    post(21, {"result": [span, {"from_name": "duration-minutes", "to_name": "reference0", "type": "textarea",
                                "value": {"text": ["4"]}}]})
    post(21, {"result": [{"from_name": "candidate2-errors", "to_name": "candidate2", "type": "choices",
                          "value": {"choices": ["3. Incorrect location/position of finding", "other"]}},
                         {"from_name": "errors-candidate2-other", "to_name": "candidate2", "type": "textarea",
                          "value": {"text": [FORMULA]}}]})
    post(22, {"result": [], "was_cancelled": True})
    post(23, {"result": [{"from_name": "remarks", "to_name": "reference0", "type": "textarea",
                          "value": {"text": ["clear, \"quoted\"\nsecond line"]}}]})
    post(23, {"result": [], "was_cancelled": True})
    post(24, {"result": []})
    yield title, pid
    run_module("label_studio_project", {"title": title, "state": "absent", **conn(server)})
    for name in own_copies(server, pid):  # the copies of this test's own server_export calls
        os.unlink(server.data_dir / "export" / name)


def own_copies(inst, pid: int) -> set[str]:
    """The copies Label Studio keeps of every API export it serves of this (the test's own) project."""
    return {n for n in os.listdir(inst.data_dir / "export") if n.startswith(f"project-{pid}-at-")}


def bundle_export(server, title, export_format, tmp_path, data_dir=True):
    bundle = tmp_path / f"bundle-{export_format}.json"
    args = {"bundle": str(bundle), "projects": {"someone": title}, "format": export_format,
            "node_command": node_command(server), **conn(server)}
    if data_dir:
        args["data_dir"] = str(server.data_dir)
    res = run_module("label_studio_export", args)
    assert not res["failed"], res.get("msg")
    assert oct(bundle.stat().st_mode & 0o777) == "0o600"
    (export,) = json.loads(bundle.read_text(encoding="utf-8"))["exports"]
    return export


@pytest.mark.parametrize("export_format", ["JSON_MIN", "JSON"])
def test_the_json_file_is_the_servers_own_export(server, annotated_project, tmp_path, export_format):
    title, pid = annotated_project
    export = bundle_export(server, title, export_format, tmp_path)
    theirs = json.loads(server_export(server, pid, export_format))
    assert json.loads(export["file"]) == theirs  # same records, same order
    if export_format == "JSON_MIN":
        # Label Studio's own selection: the skipped-only task is left out, the empty result kept.
        assert sorted(r["study_id"] for r in theirs) == [21, 21, 23, 24]
    # The tables' source is the full export: every task, skipped annotations with their ids.
    assert len(export["full"]) == 7


def test_the_csv_file_has_the_servers_own_rows(server, annotated_project, tmp_path):
    """The server's CSV export, cell for cell, with the README's formula rule applied (written
    here, not taken from module_utils): a cell starting with =, +, -, @, tab or CR gets a "'"."""
    title, pid = annotated_project
    export = bundle_export(server, title, "CSV", tmp_path)
    theirs = server_export(server, pid, "CSV").decode("utf-8")

    def rows(text):
        return list(csv.reader(io.StringIO(text, newline="")))

    def neutralized(cell):
        return "'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell
    assert rows(export["file"]) == [[neutralized(cell) for cell in row] for row in rows(theirs)]
    assert ("\r\n" in export["file"]) == ("\r\n" in theirs)  # the server's line ends kept
    assert any(cell == "'" + FORMULA for row in rows(export["file"]) for cell in row)


def test_a_snapshot_export_gives_the_same_tables_as_the_full_export(server, annotated_project):
    """study_merge_annotations also reads a snapshot made in the UI (Export, "Create New
    Snapshot"): on this Label Studio it holds what export.yml's full export holds (every task,
    skipped annotations too), so the merged tables come out the same."""
    from ansible.module_utils.annotation_table import build_tables, user_emails
    _title, pid = annotated_project
    snapshot = server.api("POST", f"/api/projects/{pid}/exports/", {})
    try:
        assert snapshot["status"] == "completed", snapshot
        made = server.api("GET", f"/api/projects/{pid}/exports/{snapshot['id']}/download?exportType=JSON")
        full = server.api("GET", f"/api/projects/{pid}/export?exportType=JSON&download_all_tasks=true")
    finally:  # the snapshot's file, apart from the API exports' copies (own_copies)
        shutil.rmtree(server.data_dir / "media" / "export" / str(pid), ignore_errors=True)
    emails = user_emails(server.api("GET", "/api/users/"))
    rows, unannotated = build_tables([("someone", full)], emails)
    # Both tables have something to compare: 21 twice, 22 skipped only, 23 and 24; 25-27 none.
    assert len({row["annotation_id"] for row in rows}) == 6
    assert [task["status"] for task in unannotated].count("unannotated") == 3
    assert build_tables([("someone", made)], emails) == (rows, unannotated)


def test_one_api_export_per_project(server, annotated_project, tmp_path):
    """Label Studio keeps a copy of every API export it serves (project-PID-at-...-info.json):
    without data_dir the module leaves them, so they count the exports it asked for."""
    title, pid = annotated_project
    # Copies are named by the minute and the content: remove the earlier ones (all this test's
    # own) so that one made again in the same minute is counted too.
    for name in own_copies(server, pid):
        os.unlink(server.data_dir / "export" / name)
    bundle_export(server, title, "JSON_MIN", tmp_path, data_dir=False)
    made = own_copies(server, pid)
    assert len([n for n in made if n.endswith("-info.json")]) == 1, sorted(made)


def test_one_converter_run_for_every_project(server, annotated_project, tmp_path):
    """The converter's import costs about a second: one node command converts every project's
    export, not one per annotator (counted by a wrapper in front of node_command). Two projects
    of their own, so that one run per project would show as two."""
    title, pid = annotated_project
    other = f"{title} (second)"
    res = run_module("label_studio_project", {"title": other, "label_config": CONFIG, **conn(server)})
    assert res["changed"] and res["project_id"], res.get("msg")
    other_pid = res["project_id"]
    try:
        run_module("label_studio_tasks", {"project": other, "tasks": [report(31)], **conn(server)})
        (task,) = server.api("GET", f"/api/tasks/?project={other_pid}&fields=task_only&include=id")["tasks"]
        server.api("POST", f"/api/tasks/{task['id']}/annotations/", {"result": [{
            "from_name": "remarks", "to_name": "reference0", "type": "textarea",
            "value": {"text": ["the second project's"]}}]})
        runs = tmp_path / "runs"
        counting = ["/bin/sh", "-c", 'echo run >> "$0"; exec "$@"', str(runs)] + node_command(server)
        bundle = tmp_path / "bundle.json"
        res = run_module("label_studio_export", {
            "bundle": str(bundle), "projects": {"first": title, "second": other}, "format": "JSON_MIN",
            "node_command": counting, "data_dir": str(server.data_dir), **conn(server)})
        assert not res["failed"], res.get("msg")
        assert runs.read_text().splitlines() == ["run"]
        first, second = json.loads(bundle.read_text(encoding="utf-8"))["exports"]
        assert (first["name"], second["name"]) == ("first", "second")
        assert json.loads(first["file"]) == json.loads(server_export(server, pid, "JSON_MIN"))
        assert json.loads(second["file"]) == json.loads(server_export(server, other_pid, "JSON_MIN"))
        assert json.loads(second["file"])[0]["remarks"] == "the second project's"
    finally:
        run_module("label_studio_project", {"title": other, "state": "absent", **conn(server)})
        for name in own_copies(server, other_pid):
            os.unlink(server.data_dir / "export" / name)
