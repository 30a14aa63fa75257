"""Backups that restore: real Label Studio instances deployed by deploy.yml, real backup.yml and
restore.yml runs, the real crontab and cron daemon.

Two instances: `source` (backed up; its backup dir has a `%` in its name so the crontab line must
escape it) and `target` (another "node": its own data dir, port and credentials dir), which
receives the restores. Tests run in file order and build on each other's state.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import threading
import time
import urllib.error
import urllib.parse
from datetime import datetime
from pathlib import Path

import pytest

from support.background import at_once
from support.backup_script import load
from support.crontab import crontab_listing, crontab_without, edit_crontab, instance_cron_lines
from support.files import assert_untouched, files_state
from support.playbook import run_playbook

pytestmark = pytest.mark.slow

backup_script = load()

CONFIG = ('<View><Text name="text" value="$text"/>'
          '<Choices name="ch" toName="text"><Choice value="A"/><Choice value="B"/></Choices>'
          '<TextArea name="note" toName="text"/></View>')


def choice(value: str, note: str | None = None) -> dict:
    result = [{"from_name": "ch", "to_name": "text", "type": "choices", "value": {"choices": [value]}}]
    if note:
        result.append({"from_name": "note", "to_name": "text", "type": "textarea",
                       "value": {"text": [note]}})
    return {"result": result}


def make_project(inst, title: str, n_tasks: int, n_preannotated: int = 0) -> tuple[int, list[int]]:
    project = inst.api("POST", "/api/projects/", {"title": title, "label_config": CONFIG})
    tasks = [{"data": {"text": f"{title} report {i}"}} for i in range(n_tasks)]
    tasks += [{"data": {"text": f"{title} imported {i}"},
               "annotations": [choice("A", f"imported {i}")]} for i in range(n_preannotated)]
    imported = inst.api("POST", f"/api/projects/{project['id']}/import?return_task_ids=true", tasks)
    return project["id"], imported["task_ids"]


def archives(inst) -> list[Path]:
    pattern = backup_script.archive_pattern(inst.name)
    return sorted(p for p in Path(inst.extra["label_studio_backup_dir"]).iterdir()
                  if pattern.match(p.name))


def read_only_uri(path: Path) -> str:
    return "file:" + urllib.parse.quote(str(path)) + "?mode=ro"


def crontab_line(inst) -> str | None:
    return instance_cron_lines({inst.name}, crontab_listing()).get(f"#Ansible: label-studio backup {inst.name}")


def export_all(inst) -> dict:
    """JSON_MIN export of every project, keyed by project id, rows in a stable order."""
    out = {}
    for project in inst.api("GET", "/api/projects/?page_size=1000")["results"]:
        rows = inst.api("GET", f"/api/projects/{project['id']}/export?exportType=JSON_MIN")
        out[project["id"]] = sorted(rows, key=lambda r: (r["id"], r.get("annotation_id", 0)))
    return out


def restore(inst, archive: Path, **more):
    return inst.playbook("playbooks/restore.yml", {"backup": str(archive), **more})


def take_backup(inst, **more) -> Path:
    before = set(archives(inst))
    inst.playbook("playbooks/backup.yml", more).assert_ok()
    new = set(archives(inst)) - before
    assert len(new) == 1, f"expected one new archive, got {new}"
    return new.pop()


def manifest_of(archive: Path) -> dict:
    with tarfile.open(archive) as tar:
        return json.load(tar.extractfile("manifest.json"))


def data_dir_fingerprint(inst) -> dict:
    """Everything under the data dir but the logs: names, and each file's checksum and mtime
    (the database's checksum only: the running server may touch its file without a change)."""
    db = inst.data_dir / "label_studio.sqlite3"
    files = {}
    for path in sorted(inst.data_dir.rglob("*")):
        name = str(path.relative_to(inst.data_dir))
        if "logs" in path.relative_to(inst.data_dir).parts:
            continue
        if path.is_file() and not path.is_symlink():
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            files[name] = digest if path == db else (digest, path.stat().st_mtime_ns)
        else:
            files[name] = "dir" if path.is_dir() else "other"
    return {"files": files, "siblings": sorted(p.name for p in inst.data_dir.parent.iterdir())}


def untouched_state(inst) -> dict:
    """What a refused restore must leave as it is: the data dir, the credentials and the service's
    own files (bytes and mtimes), and the running Label Studio process itself."""
    pid = inst.supervisorctl("pid", "label-studio").stdout.strip()
    assert pid.isdigit(), pid
    return {"data": data_dir_fingerprint(inst), "pid": pid,
            "files": files_state(inst.credentials_dir, inst.state_dir)}


def assert_untouched_since(before: dict, inst) -> None:
    assert data_dir_fingerprint(inst) == before["data"]
    assert_untouched(before["files"], inst.credentials_dir, inst.state_dir)
    # Not stopped and started again: the same process still serves.
    assert inst.supervisorctl("pid", "label-studio").stdout.strip() == before["pid"]
    assert inst.health()


def deploy_ahead(make_instance, tmp_path_factory):
    """source and target, not deployed yet: conftest.py deploys them (deployed_ahead)."""
    backups = tmp_path_factory.mktemp("source") / "backups%daily"
    return make_instance(label_studio_backup_dir=str(backups)), make_instance()


@pytest.fixture(scope="module")
def deployed(deployed_ahead):
    """(source, target), deployed at once (in the background while the module before ran)."""
    pair, runs = deployed_ahead
    for run in runs:
        run.assert_ok()
    return pair


@pytest.fixture(scope="module")
def source(deployed):
    inst = deployed[0]
    make_project(inst, "backup-bulk", 1500, n_preannotated=1500)
    pid, tasks = make_project(inst, "backup-small", 12)
    for task in tasks[:6]:
        inst.api("POST", f"/api/tasks/{task}/annotations/", choice("B", f"note {task}"))
    inst.api("POST", f"/api/tasks/{tasks[6]}/annotations/", {"result": [], "was_cancelled": True})
    return inst


@pytest.fixture(scope="module")
def target(deployed):
    return deployed[1]


def test_deploy_schedules_backups_and_stays_idempotent(source):
    line = crontab_line(source)
    assert line is not None, "no backup line in the crontab"
    assert line.startswith("5 */12 * * * "), line
    assert "backups\\%daily" in line and "backups%daily" not in line.replace("\\%", ""), line
    package = source.state_dir / "label_studio_node.zip"
    assert oct(package.stat().st_mode & 0o777) == "0o600"
    assert not list(source.state_dir.glob("**/__pycache__"))
    assert oct(Path(source.extra["label_studio_backup_dir"]).stat().st_mode & 0o777) == "0o700"
    # The re-run and the --check --diff run at once: each must find nothing to change, and no
    # file of the service or the controller, nor the crontab line, is rewritten.
    files = files_state(source.state_dir, source.credentials_dir)
    rerun, preview = at_once(source.deploy, lambda: source.deploy(check=True, diff=True))
    rerun.assert_unchanged()
    preview.assert_unchanged()
    assert_untouched(files, source.state_dir, source.credentials_dir)
    assert crontab_line(source) == line


# `crontab` as the node has it, except that listing takes a second: two edits that start
# together then both read the crontab before either writes it back.
SLOW_LISTING_CRONTAB = """#!/bin/sh
case " $* " in *" -l "*) sleep 1 ;; esac
exec {real} "$@"
"""


def test_two_instances_in_one_play_keep_each_others_crontab_lines(source, target, tmp_path):
    """One inventory with both instances on this account (a second study beside the first): one
    deploy.yml run edits the crontab for both hosts at once. crontab is read whole and written
    back whole, so each edit must wait for the other or one instance's new lines are lost."""
    names = {source.name, target.name}
    wanted = instance_cron_lines(names, crontab_listing())
    # Both instances' @reboot and backup lines: four, so the play below must write all four.
    assert sorted(wanted) == sorted(f"#Ansible: label-studio {kind}{name}"
                                    for name in names for kind in ("", "backup ")), wanted
    edit_crontab(lambda crontab: crontab_without(names, crontab))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "crontab").write_text(SLOW_LISTING_CRONTAB.format(real=shutil.which("crontab")))
    (bin_dir / "crontab").chmod(0o755)
    hosts = {inst.name: {"ansible_connection": "local",
                         "ansible_python_interpreter": "{{ ansible_playbook_python }}",
                         **inst.extra_vars} for inst in (source, target)}
    inventory = tmp_path / "two-instances.json"
    inventory.write_text(json.dumps({"label_studio": {"hosts": hosts}}))
    run = run_playbook("deploy.yml", inventory=str(inventory),
                       env={"PATH": f"{bin_dir}:{os.environ['PATH']}"})
    run.assert_ok()
    assert instance_cron_lines(names, crontab_listing()) == wanted


def test_backup_while_annotators_write(source, target):
    """Writers never stop during the backup: each one gets writes acknowledged inside the backup
    window, none fails in any way; whatever was acknowledged before the snapshot began is in it, the
    snapshot passes integrity_check, and the restore starts."""
    pid, tasks = make_project(source, "backup-writers", 40)
    writers = 4
    # (writer, task, annotation id, request sent, acknowledged), time.time() clock
    acked: list[tuple[int, int, int, float, float]] = []
    errors: list[str] = []
    stop = threading.Event()
    lock = threading.Lock()

    def writer(n: int):
        i = n
        while not stop.is_set():
            task = tasks[i % len(tasks)]
            i += writers
            sent = time.time()
            try:
                ann = source.api("POST", f"/api/tasks/{task}/annotations/", choice("AB"[i % 2], f"w{n}-{i}"))
                with lock:
                    acked.append((n, task, ann["id"], sent, time.time()))
            except BaseException as err:  # every failure is reported, not only network ones
                with lock:
                    errors.append(f"writer {n} after {time.time() - sent:.1f} s: {err!r}")

    def acked_by_all() -> bool:
        with lock:
            return {w for w, *_ in acked} == set(range(writers))

    threads = [threading.Thread(target=writer, args=(n,), daemon=True) for n in range(writers)]
    for thread in threads:
        thread.start()
    try:
        # Every writer is writing before the backup starts (an event, with a generous limit).
        deadline = time.monotonic() + 120
        while not acked_by_all() and not errors and time.monotonic() < deadline:
            time.sleep(0.1)
        assert acked_by_all(), f"not every writer got a write acknowledged before the backup: {errors[:5]}"
        window_start = time.time()
        archive = take_backup(source)
        window_end = time.time()
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=150)  # longer than a request's own 120 s timeout
    assert not [t for t in threads if t.is_alive()], "a writer is still stuck in a request"
    assert not errors, f"writers failed during the backup: {errors[:5]}"
    acked_before_launch = [a for a in acked if a[4] < window_start]
    # Sent after the backup began and acknowledged before it ended: written while it ran.
    inside = [a for a in acked if a[3] >= window_start and a[4] <= window_end]
    assert acked_before_launch, "the writers wrote nothing before the backup"
    assert inside, "no write was acknowledged inside the backup window"
    # A writer blocked for the whole backup would have nothing inside the window: named here.
    blocked = set(range(writers)) - {w for w, *_ in inside}
    assert not blocked, (f"writers {sorted(blocked)} got no write acknowledged during the "
                         f"{window_end - window_start:.1f} s backup")

    manifest = manifest_of(archive)
    print("snapshot:", manifest["database"], "acked before launch:", len(acked_before_launch),
          "acked inside the backup window:", len(inside), "acked in all:", len(acked))
    # Independent of the script: the snapshot in the archive passes SQLite's own check.
    work = Path(str(archive) + ".check")
    work.mkdir()
    try:
        with tarfile.open(archive) as tar:
            Path(work / "db").write_bytes(tar.extractfile("label_studio.sqlite3").read())
        conn = sqlite3.connect(read_only_uri(work / "db"), uri=True)
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        conn.close()
    finally:
        shutil.rmtree(work)

    restore(target, archive).assert_ok()
    assert target.health()
    restored = set()
    for task in tasks:
        restored |= {a["id"] for a in target.api("GET", f"/api/tasks/{task}/annotations/")}
    missing = {a for _w, _t, a, _s, _a in acked_before_launch} - restored
    assert not missing, f"{len(missing)} acknowledged annotations missing after restore"
    # Stronger, same clock: everything acknowledged before the snapshot began is in it.
    began = datetime.fromisoformat(manifest["created_at"].replace("Z", "+00:00")).timestamp()
    missing = {a for _w, _t, a, _s, when in acked if when < began} - restored
    assert not missing, f"{len(missing)} annotations acknowledged before the snapshot are missing"


def test_round_trip_to_another_node(source, target, tmp_path):
    fetched = tmp_path / "fetched"
    # The API export beside the backup: both only read the source, which nothing else writes.
    before, archive = at_once(lambda: export_all(source),
                              lambda: take_backup(source, backup_fetch_dir=str(fetched)))
    copy = fetched / archive.name
    assert copy.read_bytes() == archive.read_bytes()
    assert oct(copy.stat().st_mode & 0o777) == "0o600"
    assert oct(archive.stat().st_mode & 0o777) == "0o600"

    run = restore(target, copy)
    run.assert_ok()
    assert "counts as in the manifest" in run.output
    assert target.token == source.token  # the archive's credentials followed the data
    # The same archive again: nothing to do; meanwhile the API export reads what came back.
    after, again = at_once(lambda: export_all(target), lambda: restore(target, copy))
    assert after == before
    assert sum(len(rows) for rows in after.values()) > 1500  # one row per annotation
    again.assert_unchanged()
    # Deploy after a restore may refresh what it derives from the restored database (the study
    # role's controller copy of the invite link); then it is idempotent again.
    target.deploy().assert_ok()
    target.deploy().assert_unchanged()


def test_restore_refuses_a_newer_database_unless_forced(source, target, tmp_path):
    archive = archives(source)[-1]
    project = target.api("GET", "/api/projects/?page_size=1000")["results"][0]["id"]
    task = target.api("POST", f"/api/projects/{project}/import?return_task_ids=true",
                      [{"text": "written after the backup"}])["task_ids"][0]
    late = target.api("POST", f"/api/tasks/{task}/annotations/", choice("A", "late"))["id"]
    before = untouched_state(target)

    refused = restore(target, archive)
    assert refused.returncode != 0
    assert "after this backup was taken" in refused.output and "force=true" in refused.output
    assert_untouched_since(before, target)

    forced = restore(target, archive, force=True)
    forced.assert_ok()
    aside = sorted(target.data_dir.parent.glob(target.data_dir.name + ".before-restore-*"))[-1]
    conn = sqlite3.connect(read_only_uri(aside / "label_studio.sqlite3"), uri=True)
    assert conn.execute("SELECT count(*) FROM task_completion WHERE id = ?", (late,)).fetchone() == (1,)
    conn.close()
    # Restored to the archive: the task and annotation written after it are gone (kept aside).
    for path in (f"/api/tasks/{task}/", f"/api/annotations/{late}/"):
        with pytest.raises(urllib.error.HTTPError) as err:
            target.api("GET", path)
        assert err.value.code == 404


def test_truncated_archive_changes_nothing(source, target, tmp_path):
    good = archives(source)[-1]
    truncated = tmp_path / good.name
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    before = untouched_state(target)

    run = restore(target, truncated)
    assert run.returncode != 0
    assert "truncated or corrupt" in run.output and "nothing was changed" in run.output
    assert_untouched_since(before, target)


def test_an_archive_edited_with_recomputed_checksums_is_refused(source, target, tmp_path):
    """Checksums prove integrity, not origin: a member replaced and its sha256 recomputed in the
    manifest must not restore (issue 13, item 9). Refused before anything changes."""
    good = archives(source)[-1]
    edited = tmp_path / good.name
    forged = b"SECRET_KEY=forged-by-someone-else\n"
    with tarfile.open(good) as tar, tarfile.open(edited, "w:gz") as out:
        for member in tar.getmembers():
            data = tar.extractfile(member).read()
            if member.name == "service.env":
                data = forged
            elif member.name == "manifest.json":
                manifest = json.loads(data)
                manifest["members"]["service.env"] = {"sha256": hashlib.sha256(forged).hexdigest(),
                                                      "size": len(forged)}
                data = json.dumps(manifest, indent=2, sort_keys=True).encode()
            member.size = len(data)
            out.addfile(member, io.BytesIO(data))
    before = untouched_state(target)

    run = restore(target, edited)
    assert run.returncode != 0
    assert f"Restore of {edited} refused; nothing was changed." in run.output
    assert "not authenticated by this instance's backup key" in run.output
    assert_untouched_since(before, target)


def test_retention_keeps_exactly_n(source):
    """Counted without the script's own archive_pattern: every entry of the backup dir by name, the
    new archive of each run being what appeared in the dir during that run."""
    keep = 3
    backup_dir = Path(source.extra["label_studio_backup_dir"])
    # Not this instance's archives: retention must leave them alone.
    bystanders = ["ls-0000000000-20200101T000000Z.tar.gz", f"{source.name}-20200101T000000Z.tar.gz.keep",
                  f"{source.name}-notes.txt"]
    for name in bystanders:
        (backup_dir / name).write_text("not an archive of this instance\n")
    try:
        before = {p.name for p in backup_dir.iterdir()}
        older = {n for n in before if n.startswith(source.name + "-") and n.endswith(".tar.gz")
                 and n not in bystanders}
        made = []
        for _ in range(keep + 1):
            prior = {p.name for p in backup_dir.iterdir()}
            source.playbook("playbooks/backup.yml", {"label_studio_backup_keep": keep}).assert_ok()
            new = {p.name for p in backup_dir.iterdir()} - prior
            assert len(new) == 1, f"expected one new file, got {new}"
            made.append(new.pop())
        assert {p.name for p in backup_dir.iterdir()} == (before - older) | set(made[-keep:])
    finally:
        for name in bystanders:
            (backup_dir / name).unlink(missing_ok=True)
    log = backup_dir / f"{source.name}-backup.log"
    assert "retention: deleted" in log.read_text()


def test_cron_runs_the_backup_by_itself(source):
    every_minute = {"label_studio_backup_schedule": {"minute": "*", "hour": "*"}}
    cron = None
    try:
        source.deploy(every_minute).assert_ok()
        line = crontab_line(source)
        assert line.startswith("* * * * * ") and "backups\\%daily" in line, line
        running = subprocess.run(["pgrep", "-x", "cron"], capture_output=True).returncode == 0
        if not running:
            cron = subprocess.Popen(["/usr/sbin/cron", "-f"])
        before = set(archives(source))
        # A deadline wait, not a timing claim: cron starts the job ~1 s into the next minute (so
        # within ~61 s) and the backup takes seconds; 240 s only keeps a broken cron from hanging
        # the suite, and is generous for a loaded machine.
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and not set(archives(source)) - before:
            time.sleep(2)
        new = set(archives(source)) - before
        assert new, "cron did not take a backup within 240 s"
        log = (Path(source.extra["label_studio_backup_dir"]) / f"{source.name}-backup.log").read_text()
        assert f"backup ok archive={sorted(new)[-1]}" in log
    finally:
        if cron:
            cron.terminate()
            cron.wait(timeout=10)
        source.deploy().assert_ok()
    assert crontab_line(source).startswith("5 */12 * * * ")


def test_stopping_removes_the_cron_line_and_keeps_the_archives(source):
    kept = archives(source)
    source.stop().assert_ok()
    assert crontab_line(source) is None
    assert archives(source) == kept
    source.stop().assert_unchanged()
