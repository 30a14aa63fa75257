"""assign.yml and export.yml against a node reached over real SSH (the rig's unprivileged account):
tasks go in on the node, the exports and the merged table come home to the controller (issue 5)."""
from __future__ import annotations

import csv
import json

import pytest

from support.files import assert_untouched, files_state
from support.instance import instance_name

pytestmark = [pytest.mark.ssh, pytest.mark.slow]


def test_export_over_ssh_brings_files_home(node_study, ssh_node):
    # The node's server listens on 127.0.0.1 of this same machine: the test can check it directly.
    # It is the session's node_study (deployed, nothing assigned); test_tunnel reuses it.
    node = node_study
    date = node.extra["study_export_date"]
    node.playbook("playbooks/assign.yml", {"batch": "batch0"}).assert_ok()
    projects = {p["title"]: p["id"] for p in node.api("GET", "/api/projects/?page_size=1000")["results"]}
    pid = projects["RRS: annotator4"]
    task = node.api("GET", f"/api/tasks/?project={pid}&page_size=100&fields=task_only&include=id,data")["tasks"][0]
    node.api("POST", f"/api/tasks/{task['id']}/annotations/", {"result": [
        {"from_name": "duration-minutes", "to_name": "reference0", "type": "textarea", "value": {"text": ["7"]}}]})

    node.playbook("export.yml").assert_ok()
    out = node.work / "exports"
    ours = json.loads((out / f"{date}-annotator4.json").read_text())
    assert ours == node.api("GET", f"/api/projects/{pid}/export?exportType=JSON_MIN")
    with open(out / f"{date}-annotations.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["study_id"], r["annotator"], r["control"], r["value"]) for r in rows] == [
        (str(task["data"]["study_id"]), "annotator4", "duration-minutes", "7")]
    assert (out / f"{date}-unannotated.csv").exists()
    # Temporary full exports removed on both sides; what stays is 0600 (issue 13, item 8).
    state = f"~/.local/state/label-studio/{instance_name(str(node.data_dir))}"
    # (the state dir itself is there: the path is right, so "gone" means gone)
    assert ssh_node.run(f"test -d {state} && echo there").stdout.strip() == "there"
    assert ssh_node.run(f"test -e {state}/exports && echo left || echo gone").stdout.strip() == "gone"
    assert not [p for p in (out / ".incoming").rglob("*") if p.is_file()]
    assert {oct(p.stat().st_mode & 0o777) for p in out.rglob("*") if p.is_file()} == {"0o600"}
    exported = files_state(out)
    node.playbook("export.yml").assert_unchanged()
    assert_untouched(exported, out)  # not only changed=0: every file's bytes and mtime
