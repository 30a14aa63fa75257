"""The original study's versions (label-studio 1.6.0 on Python 3.9) and the default version run
the same study files through the same playbooks and give the same exports (issue 9)."""
from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from support.cache import cache_dir
from support.files import assert_untouched, files_state
from support.background import at_once
from support.instance import DEFAULT_VERSION
from support.old_python import find_old_python
from support.playbook import REPO

pytestmark = pytest.mark.slow

OLD_VERSION = "1.6.0"
# tests/run-all finds or installs it (support/old_python.py) and passes it as LS_STUDY_PYTHON39.
OLD_PYTHON, OLD_PYTHON_HOW = find_old_python()
DATE = "20261127"
# What differs between two servers by nature (ids, clocks), not by content.
VOLATILE = {"id", "annotation_id", "task_id", "annotator_user_id", "created_at", "updated_at", "lead_time",
            "annotator"}


def run_study(inst, work: Path) -> dict:
    """(deployed) -> assign batch0 -> annotate as two accounts -> export.yml; the export files."""
    inst.playbook("playbooks/assign.yml", {"batch": "batch0"}).assert_ok()
    projects = {p["title"]: p["id"] for p in inst.api("GET", "/api/projects/?page_size=1000")["results"]}

    def tasks(name):
        found = inst.api("GET", f"/api/tasks/?project={projects['RRS: ' + name]}&page_size=1000"
                                "&fields=task_only&include=id,data")
        return sorted(found["tasks"] if isinstance(found, dict) else found, key=lambda t: t["data"]["study_id"])

    users = {n: inst.api("POST", "/api/users/", {"email": f"{n}@example.org", "username": n})["id"]
             for n in ("annotator1", "annotator2")}
    t1, t2 = tasks("annotator1"), tasks("annotator2")
    word = t1[0]["data"]["impression"].split()[0]
    post = lambda task, body: inst.api("POST", f"/api/tasks/{task['id']}/annotations/", body)  # noqa: E731
    post(t1[0], {"completed_by": users["annotator1"], "result": [
        {"from_name": "candidate0-labels-omissions", "to_name": "reference0", "type": "labels",
         "value": {"start": 0, "end": len(word), "text": word, "labels": ["1a"]}},
        {"from_name": "candidate1-errors", "to_name": "candidate1", "type": "choices",
         "value": {"choices": ["4. Incorrect severity of finding"]}},
        {"from_name": "duration-minutes", "to_name": "reference0", "type": "textarea", "value": {"text": ["5"]}}]})
    post(t1[1], {"completed_by": users["annotator1"], "result": [], "was_cancelled": True})
    post(t2[0], {"completed_by": users["annotator2"], "result": [
        {"from_name": "remarks", "to_name": "reference0", "type": "textarea", "value": {"text": ["clear"]}},
        {"from_name": "duration-minutes", "to_name": "reference0", "type": "textarea", "value": {"text": ["2"]}}]})
    inst.playbook("export.yml").assert_ok()
    # Each annotator's file is made from the full export by this version's own converter on the
    # node (issue 16): what this server's own JSON_MIN export of the project gives.
    for name in (f"annotator{i}" for i in range(1, 7)):
        own = inst.api("GET", f"/api/projects/{projects['RRS: ' + name]}/export?exportType=JSON_MIN")
        assert json.loads((work / "exports" / f"{DATE}-{name}.json").read_text()) == own, name
    exported = files_state(work / "exports")
    inst.playbook("export.yml").assert_unchanged()
    assert_untouched(exported, work / "exports")  # not only changed=0: bytes and mtimes too
    return {p.name: p for p in (work / "exports").iterdir() if p.is_file()}


def comparable_json_min(path: Path) -> list[dict]:
    return sorted(({k: v for k, v in r.items() if k not in VOLATILE} for r in json.loads(path.read_text())),
                  key=lambda r: json.dumps(r, sort_keys=True))


def comparable_csv(path: Path) -> list[dict]:
    with open(path, newline="") as handle:
        return [{k: v for k, v in row.items() if k not in VOLATILE - {"annotator"}} for row in csv.DictReader(handle)]


def deploy_ahead(make_instance, tmp_path_factory):
    """Both versions' instances, not deployed yet: conftest.py deploys them (deployed_ahead).
    None without a Python 3.9 (the test then says what went unproven)."""
    if OLD_PYTHON is None:
        return ()
    made = []
    for version, python, env_dir in ((OLD_VERSION, OLD_PYTHON, cache_dir() / f"env-{OLD_VERSION}"),
                                     (DEFAULT_VERSION, "/usr/bin/python3", None)):
        work = tmp_path_factory.mktemp(f"v{version}")
        extra = {"label_studio_version": version, "label_studio_python": python,
                 "study_task_files_dir": str(work / "tasks"), "study_export_dir": str(work / "exports"),
                 "study_export_date": DATE, "study_assignments": str(work / "assignments.xlsx")}
        shutil.copy(REPO / "files/study/assignments.xlsx", work / "assignments.xlsx")
        inst = make_instance(**extra)
        if env_dir:
            inst.env_dir = env_dir
        inst.work = work
        made.append(inst)
    return tuple(made)


def test_old_and_default_versions_give_the_same_exports(deployed_ahead, not_tested):
    if OLD_PYTHON is None:
        not_tested(f"Label Studio {OLD_VERSION} on Python 3.9 runs the study (issue 9)",
                   f"no Python 3.9 interpreter on this machine ({OLD_PYTHON_HOW})")
    instances, deploys = deployed_ahead
    for run in deploys:
        run.assert_ok()
    # The two studies side by side: separate instances, separate files.
    exports = at_once(*(lambda inst=inst: run_study(inst, inst.work) for inst in instances))
    runs = {inst.extra["label_studio_version"]: export for inst, export in zip(instances, exports)}
    for version, inst in zip(runs, instances):
        assert inst.api("GET", "/api/version")["release"] == version
    old, new = runs[OLD_VERSION], runs[DEFAULT_VERSION]
    assert sorted(old) == sorted(new)
    for name in (f"{DATE}-annotator{i}.json" for i in range(1, 7)):
        assert comparable_json_min(old[name]) == comparable_json_min(new[name]), name
    for name in (f"{DATE}-annotations.csv", f"{DATE}-unannotated.csv"):
        assert comparable_csv(old[name]) == comparable_csv(new[name]), name
    rows = comparable_csv(new[f"{DATE}-annotations.csv"])
    assert {r["annotator_email"] for r in rows} == {"annotator1@example.org", "annotator2@example.org"}
