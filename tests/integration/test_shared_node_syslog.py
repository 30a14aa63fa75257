"""Nothing of the study reaches the node's syslog nor Ansible's output, even at -vvv (issue 13, item 1).

A /dev/log listener collects every message while deploy (with annotator accounts), assign,
export and backup run at -vvv; neither that capture nor the playbooks' output may hold report
text, an annotator's email or a secret. The playbooks run with ANSIBLE_NO_TARGET_SYSLOG=False
(a user with another ansible.cfg): the project's own `no_target_syslog` is defence in depth,
the module arguments themselves must carry nothing.

Twice: on this machine (the default inventory; the import then runs in Ansible's own process)
and on the SSH node (as on a cluster: every module runs there and logs its arguments, the
import's among them). The node is this machine's other account, so its modules log to the same
/dev/log.
"""
from __future__ import annotations

import json
import re
import shutil
import uuid

import pytest

from support.modules import IMPORT_RUN
from support.playbook import REPO, unfolded
from support.syslog import capture_syslog

EXAMPLE = REPO / "files/study"
BATCH = "batch0"
EMAILS = {"annotator1": "Syslog.Annotator1@Example.org", "annotator2": "syslog-a2@example.org"}
ANNOTATORS = [{"name": name, "email": EMAILS[name]} if name in EMAILS else name
              for name in (f"annotator{i}" for i in range(1, 7))]
# Marks this run's messages: other test runs on the machine (CI runs one at a time, developers
# may not) log to the same /dev/log while the listener is up, and this session's background
# deploys keep running meanwhile (they log nothing there: no_target_syslog, and no tag).
TAG = f"syslog-test-{uuid.uuid4().hex}"
LOUD = {"ANSIBLE_NO_TARGET_SYSLOG": "False", "ANSIBLE_TARGET_LOG_INFO": TAG}
DATE = "20261130"


def normalized(text: str) -> str:
    """Folded lines joined again (support.playbook.unfolded), in lower case."""
    return unfolded(text).lower()


def report_texts(batch: str) -> set[str]:
    """Every text of the batch's reports, as the import sends them to Label Studio."""
    import openpyxl
    sheet = openpyxl.load_workbook(EXAMPLE / "assignments.xlsx", read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    ids = {row[0] for row in rows[1:] if row[1] == batch}
    texts = set()
    for record in json.loads((EXAMPLE / "reports.json").read_text()):
        if record["id"] in ids:
            texts.update(value for value in record.values() if isinstance(value, str) and len(value) >= 12)
    assert len(texts) > 10, "too few report texts to look for"
    return texts


def secrets(inst) -> dict[str, str]:
    """Every secret the deploy generated on the controller (admin password, token, SECRET_KEY,
    passwords, link), and the key that signs the backups (the node's copy, which backup.yml uses)."""
    found = {str(path.relative_to(inst.credentials_dir)): path.read_text().strip()
             for path in inst.credentials_dir.rglob("*") if path.is_file()}
    found["backup.key"] = (inst.state_dir / "backup.key").read_text().strip()
    assert {"admin_password", "api_token", "secret_key"} <= set(found), sorted(found)
    return {name: value for name, value in found.items() if len(value) >= 8}


@pytest.fixture(scope="module", params=["local", pytest.param("node", marks=pytest.mark.ssh)])
def logged(request, tmp_path_factory):
    """Deploy, assign, export and backup at -vvv with a /dev/log listener, on this machine or on
    the SSH node; (where, syslog, output, inst)."""
    where = request.param
    work = tmp_path_factory.mktemp(f"syslog-{where}")
    shutil.copy(EXAMPLE / "assignments.xlsx", work / "assignments.xlsx")
    study = dict(study_annotators=ANNOTATORS, study_assignments=str(work / "assignments.xlsx"),
                 study_task_files_dir=str(work / "tasks"), study_export_dir=str(work / "exports"),
                 study_export_date=DATE)
    if where == "local":
        inst = request.getfixturevalue("make_instance")(**study)
    else:
        inst = request.getfixturevalue("make_node_instance")(
            "syslog", credentials_dir=work / "credentials", **study)
    outputs = []
    with capture_syslog() as messages:
        for playbook, more in (("deploy.yml", {}), ("playbooks/assign.yml", {"batch": BATCH}),
                               ("export.yml", {}), ("playbooks/backup.yml", {})):
            run = inst.playbook(playbook, more, extra_args=["-vvv"], env=LOUD)
            outputs.append(run.output)
            run.assert_ok()
    yield where, [m for m in messages if TAG in m], "\n".join(outputs), inst
    if where == "node":
        inst.remove()


def test_the_listener_hears_ansibles_modules(logged):
    """The capture is real: the modules did log their invocations to it."""
    where, messages, output, inst = logged
    assert any("ansible-label_studio_export" in m for m in messages), messages[:5]
    # Issue 16, data crosses once: one import run and one export run for all six annotators.
    runs = lambda module: [m for m in messages if f"ansible-{module}" in m and "Invoked with" in m]  # noqa: E731
    assert len(runs("label_studio_export")) == 1, runs("label_studio_export")
    assert len(re.findall(IMPORT_RUN, output)) == 1
    # Locally the import runs in Ansible's own process: no module, no syslog. On the node it is a
    # module and its invocation must be heard: syslog(3) drops a message too big for one datagram
    # (~208 KiB) without a word, so arguments carrying the batch's tasks would vanish from the
    # capture instead of showing up in it.
    assert len(runs("label_studio_tasks")) == (0 if where == "local" else 1), runs("label_studio_tasks")
    assert any("ansible-label_studio_user" in m for m in messages)
    assert len(inst.api("GET", "/api/users/")) == 3  # admin + the two annotators with an email


@pytest.mark.parametrize("where", ["syslog", "ansible output"])
def test_no_report_text_email_or_secret_leaks(logged, where):
    _where, messages, output, inst = logged
    text = normalized("\n".join(messages) if where == "syslog" else output)
    leaks = {"report texts": [t[:40] for t in sorted(report_texts(BATCH)) if normalized(t) in text],
             "emails of": [name for name, email in EMAILS.items() if email.lower() in text],
             "secrets": [name for name, value in secrets(inst).items()
                         if normalized(value) in text]}
    found = {kind: items for kind, items in leaks.items() if items}
    assert not found, f"{where} holds " + "; ".join(
        f"{len(items)} {kind}: {items[:5]}" for kind, items in found.items())
