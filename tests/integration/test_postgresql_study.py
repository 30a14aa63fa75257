"""A study on PostgreSQL (issue 8), as one story on the SSH rig's node account:
1. playbooks/migrate-to-postgresql.yml moves a SQLite study with annotations into the node's own
   cluster; export.yml gives the same files before and after;
2. backup.yml takes a pg_dump archive, restore.yml brings the study back to it (exports equal);
3. 20 concurrent writers for 60 s on it, and on SQLite: no acknowledged write is lost."""
from __future__ import annotations

import csv
import hashlib
import io
import json
import shlex
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from support.background import at_once
from support.files import assert_untouched, files_state, node_files_state
from support.instance import Instance
from support.net import free_port
from support.load import load_project, read_back, run_writers
from support.playbook import REPO
from support.postgres import BIN, node_sql

pytestmark = [pytest.mark.ssh, pytest.mark.slow, pytest.mark.postgresql]
DATE = "20261127"


def deploy_ahead(make_node_instance, tmp_path_factory):
    """The study's node instance, not deployed yet: conftest.py deploys it (deployed_ahead)."""
    work = tmp_path_factory.mktemp("migration")
    shutil.copy(REPO / "files/study/assignments.xlsx", work / "assignments.xlsx")
    inst = make_node_instance(
        "migrate", credentials_dir=work / "credentials", label_studio_postgresql_port=free_port(),
        study_annotators=[{"name": "annotator1", "email": "a1@example.org"},
                          "annotator2", "annotator3", "annotator4", "annotator5", "annotator6"],
        study_assignments=str(work / "assignments.xlsx"),
        study_task_files_dir=str(work / "tasks"), study_export_date=DATE)
    inst.work = work
    return inst


@pytest.fixture(scope="module")
def study(deployed_ahead):
    """A SQLite study on the node account: batch0 assigned, annotations from two users."""
    (inst,), (run,) = deployed_ahead
    run.assert_ok()
    inst.playbook("playbooks/assign.yml", {"batch": "batch0"}).assert_ok()
    annotate(inst)
    yield inst
    inst.remove()


def annotate(inst: Instance) -> None:
    """Annotations by the admin and by annotator1 (its own session token), one skipped."""
    projects = {p["title"]: p["id"] for p in inst.api("GET", "/api/projects/?page_size=100")["results"]}
    for title, texts in (("RRS: annotator1", ["7", "12"]), ("RRS: annotator4", ["3"])):
        tasks = inst.api("GET", f"/api/tasks/?project={projects[title]}&page_size=100&fields=task_only")["tasks"]
        for task, text in zip(tasks, texts):
            inst.api("POST", f"/api/tasks/{task['id']}/annotations/", {"result": [
                {"from_name": "duration-minutes", "to_name": "reference0", "type": "textarea",
                 "value": {"text": [text]}}]})
        inst.api("POST", f"/api/tasks/{tasks[-1]['id']}/annotations/",
                 {"result": [], "was_cancelled": True})


def export(inst: Instance, name: str) -> dict[str, bytes]:
    out = inst.work / name
    inst.playbook("export.yml", {"study_export_dir": str(out)}).assert_ok()
    return {p.name: p.read_bytes() for p in sorted(out.iterdir()) if p.suffix in (".json", ".csv")}


@pytest.fixture(scope="module")
def migrated(study):
    study.before = export(study, "before")
    study.users_before = study.api("GET", "/api/users/")
    study.migration = study.playbook("playbooks/migrate-to-postgresql.yml").assert_ok()
    study.extra["label_studio_database"] = "postgresql"
    return study


def test_exports_are_equal_after_the_migration(migrated):
    assert migrated.migration.changed > 0
    assert "the same tasks, annotations and exports on PostgreSQL as on SQLite" in migrated.migration.output
    after = export(migrated, "after")
    assert sorted(after) == sorted(migrated.before)
    assert len(after) >= 8  # six annotators' JSON, the merged and the unannotated table
    for name in after:
        if name.endswith(".json"):
            # The same records; on PostgreSQL tasks come in another order (and jsonb orders
            # a task's data keys its own way, which json.loads forgets anyway).
            assert sorted_records(after[name]) == sorted_records(migrated.before[name]), name
        else:
            assert after[name] == migrated.before[name], name
    rows = csv.DictReader(io.StringIO(migrated.before[f"{DATE}-annotations.csv"].decode()))
    assert sorted(row["kind"] for row in rows) == ["skipped", "skipped", "text", "text", "text"]


def sorted_records(raw: bytes) -> list:
    return sorted(json.loads(raw), key=lambda record: json.dumps(record, sort_keys=True))


def test_users_and_token_survive(migrated, ssh_node):
    assert migrated.api("GET", "/api/users/") == migrated.users_before  # the same token works
    assert ssh_node.run(f"ls {migrated.data_dir}/label_studio.sqlite3.before-postgresql-*").returncode == 0
    assert ssh_node.run(f"test -e {migrated.data_dir}/label_studio.sqlite3").returncode == 1


def test_new_annotations_go_to_postgresql(migrated, ssh_node):
    projects = {p["title"]: p for p in migrated.api("GET", "/api/projects/?page_size=100")["results"]}
    project = projects["RRS: annotator2"]
    task = migrated.api("GET", f"/api/tasks/?project={project['id']}&page_size=1&fields=task_only")["tasks"][0]
    created = migrated.api("POST", f"/api/tasks/{task['id']}/annotations/", {"result": [
        {"from_name": "duration-minutes", "to_name": "reference0", "type": "textarea",
         "value": {"text": ["written to postgresql"]}}]})
    assert created["id"] > max(a["id"] for p in ("RRS: annotator1", "RRS: annotator4")
                               for a in annotations(migrated, projects[p]["id"]))
    # The row itself, read from PostgreSQL as the instance's database user (not through Label Studio).
    row = node_sql(ssh_node, migrated, f"SELECT task_id, result::text FROM task_completion WHERE id = {created['id']}")
    task_id, result = row.split("|", 1)
    assert int(task_id) == task["id"], row
    assert json.loads(result)[0]["value"]["text"] == ["written to postgresql"], row


def annotations(inst: Instance, project_id: int) -> list:
    tasks = inst.api("GET", f"/api/tasks/?project={project_id}&page_size=100&fields=all")["tasks"]
    return [a for t in tasks for a in t.get("annotations", [])]


def test_second_migration_and_deploy_change_nothing(migrated, ssh_node):
    node_dirs = (f"~/.local/state/label-studio/{migrated.name}", f"{migrated.data_dir}-postgresql/*.conf")
    before = files_state(migrated.credentials_dir), node_files_state(ssh_node, *node_dirs)
    # Both re-runs at once: each must find nothing to do, so neither changes what the other reads.
    again, deploy = at_once(lambda: migrated.playbook("playbooks/migrate-to-postgresql.yml"), migrated.deploy)
    again.assert_unchanged()
    deploy.assert_unchanged()
    # Not only changed=0: no credential, service file or cluster configuration written again.
    assert_untouched(before[0], migrated.credentials_dir)
    assert node_files_state(ssh_node, *node_dirs) == before[1]


def test_assign_again_reads_the_keys_from_postgresql_not_the_api(migrated):
    """On PostgreSQL the import's check of what each project holds is one read-only query on the
    node (the node package's task-keys, in the service's environment), not a listing of every
    task through the API; a re-run still imports nothing."""
    run = migrated.playbook("playbooks/assign.yml", {"batch": "batch0"}, extra_args=["-v"])
    run.assert_unchanged()
    assert "key_source: database" in run.output, run.output[-3000:]
    assert "key_source: api" not in run.output


def test_deploy_refuses_to_go_back_to_an_empty_sqlite(migrated, ssh_node):
    node_dirs = (f"~/.local/state/label-studio/{migrated.name}", f"{migrated.data_dir}-postgresql/*.conf")
    before = files_state(migrated.credentials_dir), node_files_state(ssh_node, *node_dirs)
    run = migrated.deploy({"label_studio_database": "sqlite"})
    assert run.returncode != 0
    assert "moved to PostgreSQL" in run.output and "label_studio_database: postgresql" in run.output
    # Refused before anything is written: a service.env already aimed at SQLite would start an
    # empty Label Studio at the next restart, while the running one still looks healthy.
    assert_untouched(before[0], migrated.credentials_dir)
    assert node_files_state(ssh_node, *node_dirs) == before[1]
    assert migrated.health()


# -- 2. backup and restore ----------------------------------------------------------------

@pytest.fixture(scope="module")
def backed_up(migrated):
    fetch = migrated.work / "fetched"
    # The export beside the backup: nothing writes to the study meanwhile (an export only reads,
    # and pg_dump takes its own consistent snapshot), so both see the same data.
    backup, migrated.at_backup = at_once(
        lambda: migrated.playbook("playbooks/backup.yml", {"backup_fetch_dir": str(fetch)}),
        lambda: export(migrated, "at-backup"))
    backup.assert_ok()
    [migrated.archive] = fetch.glob("*.tar.gz")
    return migrated


def test_backup_holds_a_checked_pg_dump(backed_up, tmp_path):
    assert backed_up.archive.stat().st_mode & 0o777 == 0o600
    with tarfile.open(backed_up.archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
        tar.extract("label_studio.pgdump", tmp_path, filter="data")
    assert manifest["database"]["engine"] == "postgresql"
    assert manifest["database"]["member"] == "label_studio.pgdump"
    projects = backed_up.api("GET", "/api/projects/?page_size=100")["results"]
    assert manifest["totals"] == {"projects": 6, "tasks": sum(p["task_number"] for p in projects),
                                  "annotations": sum(p["total_annotations_number"] + p["skipped_annotations_number"]
                                                     for p in projects)}
    listing = subprocess.run([str(BIN / "pg_restore"), "--list", str(tmp_path / "label_studio.pgdump")],
                             capture_output=True, text=True, check=True).stdout
    assert " TABLE DATA public task_completion " in listing


def test_cron_backs_up_postgresql_without_the_password(backed_up, ssh_node):
    crontab = ssh_node.run("crontab -l").stdout
    [line] = [x for x in crontab.splitlines() if not x.startswith("#") and backed_up.name in x and "backup" in x]
    assert "with-service-env" in line and "--engine postgresql" in line and "--pg-bin-dir" in line
    password = (backed_up.credentials_dir / "postgresql_password").read_text().strip()
    assert password not in crontab

    # Run the job as cron would: its command field, `\%` unescaped (an unescaped % would cut the
    # command there), /bin/sh with cron's minimal environment and nothing of the test's.
    command = line.split(None, 5)[5]
    assert "%" not in command.replace("\\%", ""), command
    command = command.replace("\\%", "%")
    backup_dir = Path(shlex.split(command)[shlex.split(command).index("--backup-dir") + 1])
    before = {p.name for p in backup_dir.iterdir()}
    job = ssh_node.run(f"env -i HOME={ssh_node.home} LOGNAME={ssh_node.user} SHELL=/bin/sh "
                       f"PATH=/usr/bin:/bin /bin/sh -c {shlex.quote(command)}")
    assert job.returncode == 0, job.stdout + job.stderr
    [new] = [backup_dir / n for n in {p.name for p in backup_dir.iterdir()} - before]
    assert new.name.startswith(backed_up.name + "-") and new.name.endswith(".tar.gz"), new
    # The job's output goes to its log (>>LOG 2>&1), not to cron's mail: that is where a leak
    # would be. The log holds this run (its archive's name), and not the password.
    log = ssh_node.run("cat %s" % shlex.quote(shlex.split(command)[shlex.split(command).index("--log") + 1]))
    assert log.returncode == 0 and f"/{new.name} size=" in log.stdout, log.stderr + log.stdout[-500:]
    assert password not in log.stdout + job.stdout + job.stderr
    # The archive verifies, checked here rather than by the script: every member's checksum as
    # listed, and a dump pg_restore can read, with the annotations' table.
    with tarfile.open(new) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
        for name, listed in manifest["members"].items():
            data = tar.extractfile(name).read()
            assert (hashlib.sha256(data).hexdigest(), len(data)) == (listed["sha256"], listed["size"]), name
        assert manifest["database"]["engine"] == "postgresql"
        dump = backed_up.work / "cron.pgdump"
        dump.write_bytes(tar.extractfile(manifest["database"]["member"]).read())
    listing = subprocess.run([str(BIN / "pg_restore"), "--list", str(dump)],
                             capture_output=True, text=True, check=True).stdout
    assert " TABLE DATA public task_completion " in listing
    assert manifest["totals"]["annotations"] > 0


def test_restore_round_trip(backed_up, ssh_node):
    # Work done after the backup, which the restore takes back.
    projects = {p["title"]: p["id"] for p in backed_up.api("GET", "/api/projects/?page_size=100")["results"]}
    task = backed_up.api("GET", f"/api/tasks/?project={projects['RRS: annotator6']}&page_size=1"
                                "&fields=task_only")["tasks"][0]
    late = backed_up.api("POST", f"/api/tasks/{task['id']}/annotations/", {"result": []})["id"]
    state = f"~/.local/state/label-studio/{backed_up.name}"

    def untouched():
        """What a refused restore and a no-change re-run must leave as it is: the database (its
        oid, the annotation made after the backup), the service's files, Label Studio's pid."""
        return (node_sql(ssh_node, backed_up, "SELECT oid FROM pg_database WHERE datname = current_database()"),
                node_sql(ssh_node, backed_up, f"SELECT count(*) FROM task_completion WHERE id = {late}"),
                node_files_state(ssh_node, state), backed_up.supervisorctl("pid", "label-studio").stdout)

    before_refusal = untouched()
    assert before_refusal[1] == "1" and before_refusal[3].strip().isdigit(), before_refusal
    # The export that shows the change and the refused restore at once: both only read (the
    # export reads through the API, touching no task or annotation; the refusal writes nothing).
    changed, refused = at_once(
        lambda: export(backed_up, "changed"),
        lambda: backed_up.playbook("playbooks/restore.yml", {"backup": str(backed_up.archive)}))
    assert changed != backed_up.at_backup
    assert refused.returncode != 0, refused.output[-3000:]
    assert "changed at" in refused.output and "nothing was changed" in refused.output, refused.output[-3000:]
    assert untouched() == before_refusal

    restored = backed_up.playbook("playbooks/restore.yml", {"backup": str(backed_up.archive), "force": True})
    restored.assert_ok()
    after_restore = untouched()
    assert after_restore[1] == "0"  # the restore took the late annotation back
    # The re-runs (deploy takes no backup/restore lock) and the export of the restored study at
    # once: each re-run must find nothing to do, so neither changes what the export reads.
    after, again, deploy = at_once(
        lambda: export(backed_up, "restored"),
        lambda: backed_up.playbook("playbooks/restore.yml", {"backup": str(backed_up.archive), "force": True}),
        backed_up.deploy)
    again.assert_unchanged()
    deploy.assert_unchanged()
    assert untouched() == after_restore  # the same database, files and process: nothing redone
    assert sorted(after) == sorted(backed_up.at_backup)
    for name in after:
        assert sorted_records(after[name]) == sorted_records(backed_up.at_backup[name]) \
            if name.endswith(".json") else after[name] == backed_up.at_backup[name], name
    # The replaced database is kept under another name, like the replaced data dir.
    aside = node_sql(ssh_node, backed_up, "SELECT datname FROM pg_database WHERE datname LIKE "
                                          "'label_studio_before_restore_%'")
    assert len(aside.split()) == 1, aside
    # pg_restore ran as the database's owner, not a superuser, into a fresh database it owns
    # (issue 13: a dump's SQL can do no more than Label Studio).
    assert node_sql(ssh_node, backed_up, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user") == "f"
    assert node_sql(ssh_node, backed_up, "SELECT pg_get_userbyid(datdba) FROM pg_database"
                                         " WHERE datname = current_database()") == "label_studio"
    assert node_sql(ssh_node, backed_up, "SELECT count(*) FROM pg_class c JOIN pg_namespace n"
                                         " ON n.oid = c.relnamespace WHERE n.nspname = 'public'"
                                         " AND c.relowner <> 'label_studio'::regrole") == "0"


# -- 3. load ------------------------------------------------------------------------------

def twenty_writers(inst: Instance, title: str):
    """20 writers for 60 s on a fresh project of 200 tasks; the writes read back afterwards."""
    project_id, task_ids = load_project(inst.url, inst.token, title)
    try:
        result = run_writers(inst.url, inst.token, task_ids, writers=20, seconds=60)
        check = read_back(inst.url, inst.token, result)
    finally:
        inst.api("DELETE", f"/api/projects/{project_id}/")
    print(f"\n{title}: {result.summary()} lost={len(check.lost)} "
          f"stored-without-ack={check.unacknowledged_stored}")
    return result, check


@pytest.fixture(scope="module")
def loaded(server, backed_up) -> dict:
    """Both loads at once, {database: (result, check)}. SQLite: the suite's shared local server;
    PostgreSQL: the migrated, restored study above. Two servers of their own; running them side
    by side only adds contention for the machine, which a correctness check can take."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {database: pool.submit(twenty_writers, inst, f"load {database}")
                   for database, inst in (("sqlite", server), ("postgresql", backed_up))}
        return {database: future.result() for database, future in futures.items()}


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_twenty_writers_lose_no_acknowledged_write(database, loaded):
    result, check = loaded[database]
    # Correctness, not speed: the writers really wrote, and nothing acknowledged was lost.
    # Throughput is measured by bench/load, not asserted here.
    assert result.acknowledged, result.summary()
    assert check.lost == [], check.lost[:5]
