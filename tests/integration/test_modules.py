"""label_studio_project / label_studio_tasks / label_studio_export against a real server (issue 3)."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time

import pytest

from support.modules import IMPORT_RUN, module_command, module_env, run_module
from support.playbook import REPO
from support.processes import descendants

CONFIG = (REPO / "files/study/label-config.xml").read_text()
SMALL_CONFIG = ("<View><Text name='reference0' value='$impression'/>"
                "<Labels name='omissions' toName='reference0'><Label value='1a'/></Labels>"
                "<TextArea name='remarks' toName='reference0'/></View>")


def conn(server) -> dict:
    return {"url": server.url, "token_file": str(server.credentials_dir / "api_token")}


def report(key: int) -> dict:
    return {"study_id": key, "batch": "batch2", "impression": f"No acute process {key}.",
            "candidate0": "No acute cardiopulmonary process.", "candidate1": "Stable.",
            "candidate2": "Mild atelectasis.", "candidate3": "Unchanged.",
            "order": ["wgsum", "bertabs", "wgsum+cl", "gsum_thresholding"]}


def project_tasks(server, pid: int) -> list[dict]:
    answer = server.api("GET", f"/api/tasks/?project={pid}&page_size=100000&fields=task_only&include=id,data")
    return answer["tasks"]


def settled_task_count(server, pid: int) -> int:
    """The project's task count once it has not changed for a second."""
    count = server.api("GET", f"/api/projects/{pid}/")["task_number"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        time.sleep(1)
        now = server.api("GET", f"/api/projects/{pid}/")["task_number"]
        if now == count:
            return count
        count = now
    raise AssertionError(f"the project's task count still changes after 60 s ({count})")


@pytest.fixture
def project(server, request):
    """A fresh project with the study's label config; deleted afterwards."""
    title = f"test: {request.node.name[-44:]}"  # Label Studio's limit: 50
    res = run_module("label_studio_project", {"title": title, "label_config": CONFIG, **conn(server)})
    assert res["changed"] and res["project_id"], {k: v for k, v in res.items()}
    yield title, res["project_id"]
    run_module("label_studio_project", {"title": title, "state": "absent", **conn(server)})


def test_project_lifecycle_with_check_and_diff(server, tmp_path):
    title, args = "test: lifecycle", {"title": "test: lifecycle", **conn(server)}
    config_file = tmp_path / "config.xml"
    config_file.write_text(SMALL_CONFIG)
    would = run_module("label_studio_project", {**args, "label_config": str(config_file)}, check=True, diff=True)
    assert would["changed"] and would["created"] and would["project_id"] is None
    assert not [p for p in server.api("GET", "/api/projects/?page_size=1000")["results"] if p["title"] == title]

    created = run_module("label_studio_project", {**args, "label_config": str(config_file)})
    assert created["changed"] and created["created"]
    pid = created["project_id"]
    stored = server.api("GET", f"/api/projects/{pid}/")["label_config"]
    again = run_module("label_studio_project", {**args, "label_config": SMALL_CONFIG.replace("><", ">\n<")})
    assert not again["changed"] and again["project_id"] == pid
    assert server.api("GET", f"/api/projects/{pid}/")["label_config"] == stored  # not sent again

    new_config = SMALL_CONFIG.replace("value='1a'", "value='1b'")
    preview = run_module("label_studio_project", {**args, "label_config": new_config}, check=True, diff=True)
    assert preview["changed"] and preview["updated_fields"] == ["label_config"]
    printed = preview["printed"].splitlines()
    # Long values are folded over several lines by the YAML result format.
    assert any(line.startswith("-") and "1a" in line for line in printed)
    assert any(line.startswith("+") and "1b" in line for line in printed)
    assert "1a" in server.api("GET", f"/api/projects/{pid}/")["label_config"]

    updated = run_module("label_studio_project", {**args, "label_config": new_config})
    assert updated["changed"] and "1b" in server.api("GET", f"/api/projects/{pid}/")["label_config"]

    gone = run_module("label_studio_project", {**args, "state": "absent"})
    assert gone["changed"]
    assert not [p for p in server.api("GET", "/api/projects/?page_size=1000")["results"] if p["id"] == pid]
    assert not run_module("label_studio_project", {**args, "state": "absent"})["changed"]


def test_several_projects_in_one_run_are_all_planned_before_any_write(server):
    """titles= (deploy's study role: one module run for every annotator's project)."""
    titles = ["test: many a", "test: many b"]
    args = {"label_config": SMALL_CONFIG, **conn(server)}

    def present():
        return {p["title"]: p["id"] for p in server.api("GET", "/api/projects/?page_size=1000")["results"]
                if p["title"] in titles}

    bad = run_module("label_studio_project", {**args, "titles": titles + ["x" * 51]})
    assert bad["failed"] and f"project '{'x' * 51}': the title is 51 characters" in bad["msg"]
    assert not present(), "a title that cannot be planned must stop the run before any write"

    would = run_module("label_studio_project", {**args, "titles": titles}, check=True, diff=True)
    assert would["changed"] and [p["created"] for p in would["projects"]] == [True, True]
    assert not present()
    try:
        made = run_module("label_studio_project", {**args, "titles": titles})
        assert made["changed"] and {p["title"]: p["project_id"] for p in made["projects"]} == present()
        again = run_module("label_studio_project", {**args, "titles": titles})
        assert not again["changed"] and [p["project_id"] for p in again["projects"]] == \
            [p["project_id"] for p in made["projects"]]
    finally:
        gone = run_module("label_studio_project", {**args, "titles": titles, "state": "absent"})
    assert gone["changed"] and not present()


def test_duplicate_titles_fail_naming_both_ids(server):
    ids = [server.api("POST", "/api/projects/", {"title": "test: twin", "label_config": SMALL_CONFIG})["id"]
           for _ in range(2)]
    try:
        res = run_module("label_studio_project", {"title": "test: twin", "label_config": SMALL_CONFIG, **conn(server)})
        assert res["failed"] and f"ids {ids[0]}, {ids[1]}" in res["msg"]
    finally:
        for pid in ids:
            server.api("DELETE", f"/api/projects/{pid}/")


def test_config_rejected_because_annotations_use_it(server):
    title = "test: used config"
    pid = run_module("label_studio_project", {"title": title, "label_config": SMALL_CONFIG, **conn(server)})["project_id"]
    try:
        server.api("POST", f"/api/projects/{pid}/import", [{"study_id": 1, "impression": "Clear lungs."}])
        (task,) = project_tasks(server, pid)
        server.api("POST", f"/api/tasks/{task['id']}/annotations/", {"result": [{
            "from_name": "omissions", "to_name": "reference0", "type": "labels",
            "value": {"start": 0, "end": 5, "text": "Clear", "labels": ["1a"]}}]})
        dropped = "<View><Text name='reference0' value='$impression'/><TextArea name='remarks' toName='reference0'/></View>"
        res = run_module("label_studio_project", {"title": title, "label_config": dropped, **conn(server)})
        assert res["failed"] and "incompatible" in res["msg"], res["msg"]
        assert "omissions" in server.api("GET", f"/api/projects/{pid}/")["label_config"]
    finally:
        server.api("DELETE", f"/api/projects/{pid}/")


def test_broken_config_fails_clearly_and_creates_nothing(server):
    res = run_module("label_studio_project", {"title": "test: broken", "label_config": "<View><Text></View>", **conn(server)})
    assert res["failed"] and "not well-formed XML" in res["msg"]
    assert not [p for p in server.api("GET", "/api/projects/?page_size=1000")["results"] if p["title"] == "test: broken"]


def ways(tmp_path, way) -> dict | None:
    """label_studio_tasks runs in Ansible's own process on the local connection (its action
    plugin); with no action plugin configured it runs as the module, as on any other node."""
    if way == "in-process":
        return None
    (tmp_path / "no-action-plugins").mkdir()
    return {"ANSIBLE_ACTION_PLUGINS": str(tmp_path / "no-action-plugins")}


@pytest.mark.parametrize("use_database,way", [(False, "in-process"), (True, "in-process"), (True, "module")],
                         ids=["api-keys", "database-keys", "database-keys-module"])
def test_import_500_twice_gives_500(server, project, tmp_path, use_database, way):
    title, pid = project
    src = tmp_path / "tasks.json"
    src.write_text(json.dumps([report(k) for k in range(1, 501)]))
    args = {"project": title, "src": str(src), **conn(server)}
    if use_database:
        args["database"] = str(server.data_dir / "label_studio.sqlite3")
    env = ways(tmp_path, way)
    preview = run_module("label_studio_tasks", args, check=True, diff=True, env=env)
    assert preview["changed"] and preview["added"] == 500 and project_tasks(server, pid) == []
    assert "+ 500 task(s): study_id 1, 2, 3" in preview["printed"]
    first = run_module("label_studio_tasks", args, env=env, verbose=True)
    assert first["changed"] and (first["added"], first["present"]) == (500, 0)
    # The way taken: -vvv names the module's file, or says the work ran in Ansible's own process.
    (run,) = re.findall(IMPORT_RUN, first["printed"])
    assert run.startswith("Using module file") == (way == "module"), run
    second = run_module("label_studio_tasks", args, env=env)
    assert not second["changed"] and (second["added"], second["present"]) == (0, 500)
    assert second["key_source"] == ("database" if use_database else "api")
    keys = [t["data"]["study_id"] for t in project_tasks(server, pid)]
    assert sorted(keys) == list(range(1, 501))


@pytest.mark.parametrize("way", ["in-process", "module"])
def test_invalid_task_250_imports_nothing(server, project, tmp_path, way):
    title, pid = project
    tasks = [report(k) for k in range(1, 501)]
    del tasks[249]["candidate2"]
    src = tmp_path / "tasks.json"
    src.write_text(json.dumps(tasks))
    res = run_module("label_studio_tasks", {"project": title, "src": str(src), **conn(server)},
                     env=ways(tmp_path, way))
    assert res["failed"]
    assert "task 250 (study_id 250) lacks field 'candidate2' that the label config shows" in res["msg"]
    assert project_tasks(server, pid) == []


@pytest.mark.parametrize("way", ["in-process", "module"])
def test_interrupted_import_then_rerun_gives_exactly_the_set(server, project, tmp_path, way):
    title, pid = project
    src = tmp_path / "tasks.json"
    src.write_text(json.dumps([report(k) for k in range(1, 501)]))
    args = {"project": title, "src": str(src), "chunk_size": 10, **conn(server)}
    proc = subprocess.Popen(module_command("label_studio_tasks", args), cwd=REPO,
                            env=dict(module_env(), **(ways(tmp_path, way) or {})),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and server.api("GET", f"/api/projects/{pid}/")["task_number"] < 50:
        time.sleep(0.05)
    # Ansible runs each task in a worker of its own session (the in-process import runs there; a
    # module is the worker's child): kill everything below ansible, then ansible.
    for below in descendants(proc.pid):
        os.kill(below, signal.SIGKILL)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    # A chunk sent just before the kill is still written by Label Studio; an import that survived
    # the kill would go on adding chunks of 10 until all 500 are in.
    partial = settled_task_count(server, pid)
    assert 0 < partial < 500, f"the kill did not land midway, or the import outlived it ({partial} tasks)"
    rerun = run_module("label_studio_tasks", args)
    assert rerun["added"] == 500 - rerun["present"] and rerun["present"] >= partial
    keys = [t["data"]["study_id"] for t in project_tasks(server, pid)]
    assert sorted(keys) == list(range(1, 501))


def test_purge_refuses_annotated_and_removes_strays(server, project):
    title, pid = project
    base = {"project": title, **conn(server)}
    run_module("label_studio_tasks", {**base, "tasks": [report(k) for k in (1, 2, 3)]})
    by_key = {t["data"]["study_id"]: t["id"] for t in project_tasks(server, pid)}
    server.api("POST", f"/api/tasks/{by_key[3]}/annotations/", {"result": [], "was_cancelled": True})
    refused = run_module("label_studio_tasks", {**base, "tasks": [report(1)], "purge": True})
    assert refused["failed"] and "study_id 3" in refused["msg"]
    assert len(project_tasks(server, pid)) == 3
    purged = run_module("label_studio_tasks", {**base, "tasks": [report(1), report(3)], "purge": True})
    assert purged["changed"] and purged["removed"] == 1
    assert sorted(t["data"]["study_id"] for t in project_tasks(server, pid)) == [1, 3]


def test_missing_project_and_bad_token_and_unreachable_server_fail_clearly(server, tmp_path):
    res = run_module("label_studio_tasks", {"project": "test: nowhere", "tasks": [report(1)], **conn(server)})
    assert res["failed"] and "no project is titled exactly 'test: nowhere'" in res["msg"]
    bad = tmp_path / "bad_token"
    bad.write_text("not-the-token-0000000000")
    res = run_module("label_studio_tasks", {"project": "x", "tasks": [report(1)], "url": server.url,
                                            "token_file": str(bad)})
    assert res["failed"] and "rejected the API token" in res["msg"]
    res = run_module("label_studio_export", {"project": "x", "dest": str(tmp_path / "e.json"),
                                             "url": "http://127.0.0.1:9", "wait_seconds": 1,
                                             "token_file": str(bad)})
    assert res["failed"] and "not reachable at http://127.0.0.1:9" in res["msg"]


def test_export_round_trip(server, project, tmp_path):
    title, pid = project
    run_module("label_studio_tasks", {"project": title, "tasks": [report(k) for k in (11, 12, 13)], **conn(server)})
    by_key = {t["data"]["study_id"]: t["id"] for t in project_tasks(server, pid)}
    server.api("POST", f"/api/tasks/{by_key[11]}/annotations/", {"result": [
        {"from_name": "candidate0-labels-omissions", "to_name": "reference0", "type": "labels",
         "value": {"start": 0, "end": 8, "text": "No acute", "labels": ["1a"]}},
        {"from_name": "duration-minutes", "to_name": "reference0", "type": "textarea", "value": {"text": ["4"]}}]})
    server.api("POST", f"/api/tasks/{by_key[12]}/annotations/", {"result": [
        {"from_name": "candidate1-errors", "to_name": "candidate1", "type": "choices",
         "value": {"choices": ["4. Incorrect severity of finding"]}}]})
    dest = tmp_path / "export.json"
    args = {"project": title, "dest": str(dest), "data_dir": str(server.data_dir), **conn(server)}
    copies_before = set(os.listdir(server.data_dir / "export"))
    first = run_module("label_studio_export", args)
    assert first["changed"] and (first["tasks"], first["annotations"]) == (2, 2)
    assert oct(dest.stat().st_mode & 0o777) == "0o600"
    records = json.loads(dest.read_text())
    assert {r["study_id"] for r in records} == {11, 12}
    by_study = {r["study_id"]: r for r in records}
    assert by_study[11]["candidate0-labels-omissions"][0]["labels"] == ["1a"]
    assert by_study[12]["candidate1-errors"] == "4. Incorrect severity of finding"
    assert set(os.listdir(server.data_dir / "export")) == copies_before, "export copies left behind"
    assert not run_module("label_studio_export", args)["changed"]
    all_tasks = run_module("label_studio_export", {**args, "format": "JSON", "download_all_tasks": True,
                                                   "dest": str(tmp_path / "full.json")})
    assert (all_tasks["tasks"], all_tasks["annotations"]) == (3, 2)


def test_health_with_the_token_also_says_whether_it_is_accepted(server, tmp_path):
    # deploy waits for health and checks its API token in one module run; a token Label Studio
    # does not know (a data dir made with other credentials) must come back as rejected.
    healthy = run_module("label_studio_info", {"query": "health", "wait_seconds": 30, **conn(server)})
    assert (healthy["status"], healthy["token_accepted"], healthy["token_status"]) == ("UP", True, 200)
    wrong = tmp_path / "api_token"
    wrong.write_text("0" * 40 + "\n")
    wrong.chmod(0o600)
    rejected = run_module("label_studio_info", {"query": "health", "url": server.url, "wait_seconds": 30,
                                                "token_file": str(wrong)})
    assert (rejected["status"], rejected["token_accepted"], rejected["token_status"]) == ("UP", False, 401)
    tokenless = run_module("label_studio_info", {"query": "health", "url": server.url, "wait_seconds": 30})
    assert tokenless["status"] == "UP" and "token_accepted" not in tokenless



def test_listing_only_the_fields_asked_gives_their_values_and_falls_back_when_one_is_missing(server, project):
    """label_studio_tasks lists projects with `include` (its LISTED_FIELDS): the values are those
    of the full listing; a field the server does not send makes the client list again in full
    rather than hand on projects without it."""
    from ansible.module_utils.label_studio_client import LabelStudioClient

    title, pid = project
    run_module("label_studio_tasks", {"project": title, "tasks": [report(1), report(2)], **conn(server)})
    client = LabelStudioClient(server.url, server.token)
    # The expected listing straight from the API (not through the client under test): every
    # project whose title holds this one, as Label Studio's own title filter matches.
    full = {p["id"]: p for p in server.api("GET", "/api/projects/?page_size=1000")["results"]
            if title in p["title"]}
    fields = ("id", "title", "label_config", "task_number")
    asked = client.list_projects([title], fields=fields)
    assert full[pid]["task_number"] == 2 and "description" in full[pid]
    assert {p["id"]: {f: p[f] for f in fields} for p in asked} == {
        i: {f: p[f] for f in fields} for i, p in full.items()}
    # Only those were asked for and sent (a listing that ignored them would hold the rest), and
    # so the fallback below is a second, full listing, not this one again.
    assert [sorted(set(p) - set(fields)) for p in asked] == [[] for _ in asked]
    fallback = client.list_projects([title], fields=fields + ("no_such_field",))
    assert {p["id"]: p for p in fallback} == full
