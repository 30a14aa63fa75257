"""label_studio_database=postgresql (issue 8): an own cluster run by the node account, and an
existing server on a separate "db host" given by the inventory's label_studio_db group."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from support.background import at_once
from support.files import assert_untouched, files_state, node_files_state
from support.net import free_port, listening_addresses, tcp_listening_ports_of
from support.postgres import BIN, CLEARTEXT_USER, node_sql, start_server
from support.processes import watch_cmdlines

pytestmark = [pytest.mark.ssh, pytest.mark.slow, pytest.mark.postgresql]


def deploy_ahead(make_node_instance):
    """The own-cluster instance, not deployed yet: conftest.py deploys it (deployed_ahead)
    through deploy_how. On the SSH rig's unprivileged account: PostgreSQL refuses to run as root."""
    return make_node_instance("pg", label_studio_database="postgresql",
                              label_studio_postgresql_port=free_port())


def deploy_how(inst):
    """The first deploy, every argv on the machine seen meanwhile kept (the password is
    generated during it, so unknown before; other processes never have it); at -vvv, where
    Ansible shows every task's arguments and result."""
    with watch_cmdlines() as seen:
        run = inst.deploy(extra_args=["-vvv"])
    inst.argv_seen = seen
    return run


@pytest.fixture(scope="module")
def own(deployed_ahead):
    (inst,), (inst.first_run,) = deployed_ahead
    inst.first_run.assert_ok()
    inst.password = (inst.credentials_dir / "postgresql_password").read_text().strip()
    inst.argv_hits = [cmd for cmd in inst.argv_seen if inst.password.encode() in cmd]
    yield inst
    inst.remove()


def test_own_cluster_serves_label_studio(own, ssh_node):
    assert own.health()
    # Label Studio keeps its data in PostgreSQL: six projects there, no SQLite file made.
    assert node_sql(ssh_node, own, "SELECT count(*) FROM project") == "6"
    assert ssh_node.run(f"test -e {own.data_dir}/label_studio.sqlite3").returncode == 1
    assert own.api("GET", "/api/projects/?page_size=100")["count"] == 6


def postmaster_pid(ssh_node, inst) -> int:
    return int(ssh_node.run(f"head -1 {inst.data_dir}-postgresql/postmaster.pid").stdout)


def socket_path(ssh_node, inst) -> str:
    return (f"{ssh_node.home}/.local/state/label-studio/{inst.name}"
            f"/.s.PGSQL.{inst.extra['label_studio_postgresql_port']}")


def test_own_cluster_is_private(own, ssh_node):
    port = own.extra["label_studio_postgresql_port"]
    # No TCP listener at all (issue 13): while the cluster is down, another account could take a
    # loopback port and receive Label Studio's password. Only the unix socket in the 0700 state dir.
    assert listening_addresses(port) == set()
    assert tcp_listening_ports_of(postmaster_pid(ssh_node, own)) == []
    cluster = f"{own.data_dir}-postgresql"
    state = f"~/.local/state/label-studio/{own.name}"
    modes = ssh_node.run(f"stat -c '%a %n' {cluster} {state}/service.env {state} "
                         f"{state}/.s.PGSQL.{port}").stdout.split("\n")
    assert modes[0].startswith("700 ") and modes[1].startswith("600 "), modes
    assert modes[2].startswith("700 ") and modes[3].startswith("700 "), modes
    mode = (own.credentials_dir / "postgresql_password").stat().st_mode & 0o777
    assert mode == 0o600
    env = ssh_node.run(f"cat {state}/service.env").stdout
    assert f"POSTGRE_HOST={ssh_node.home}/.local/state/label-studio/{own.name}\n" in env
    # Another account holding even the password reaches the cluster neither way.
    for host in (f"{ssh_node.home}/.local/state/label-studio/{own.name}", "127.0.0.1"):
        other = subprocess.run(["runuser", "-u", "nobody", "--", str(BIN / "psql"), "-h", host,
                                "-p", str(port), "-U", "label_studio", "-d", "label_studio", "-c", "select 1"],
                               env={**os.environ, "PGPASSWORD": own.password, "PGCONNECT_TIMEOUT": "5"},
                               capture_output=True, text=True, cwd="/")
        assert other.returncode != 0, (host, other.stdout)
        assert "Permission denied" in other.stderr or "Connection refused" in other.stderr, other.stderr
    # The wrong password is refused on the socket too (scram-sha-256).
    refused = ssh_node.run(f"PGPASSWORD=wrong {BIN}/psql -h {state} -p {port}"
                           " -U label_studio -d label_studio -c 'select 1'")
    assert refused.returncode != 0 and "password authentication failed" in refused.stderr


def test_label_studio_is_no_superuser(own, ssh_node):
    # Label Studio's role owns its database and nothing more: with its password nobody runs
    # programs as the node account (COPY ... TO PROGRAM needs a superuser).
    assert node_sql(ssh_node, own, "SELECT rolsuper::text || rolcreaterole::text || rolcreatedb::text"
                                   " FROM pg_roles WHERE rolname = current_user") == "falsefalsefalse"
    assert node_sql(ssh_node, own, "SELECT pg_get_userbyid(datdba) FROM pg_database"
                                   " WHERE datname = current_database()") == "label_studio"
    assert node_sql(ssh_node, own, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
                                   " AND tableowner <> current_user") == "0"
    program = node_sql(ssh_node, own, "COPY (SELECT 1) TO PROGRAM 'true'", check=False)
    assert program.returncode != 0
    assert "pg_execute_server_program" in program.stderr, program.stderr
    # The superuser's way in (peer on the socket) is not in the service's env file.
    env = ssh_node.run(f"cat ~/.local/state/label-studio/{own.name}/service.env").stdout
    assert "postgres" not in env.replace("POSTGRE_", "").lower().replace("postgresql", ""), env


def test_password_never_in_argv_or_output(own):
    assert own.argv_hits == []
    assert own.password not in own.first_run.output


def test_second_deploy_changes_nothing(own, ssh_node):
    # Not only changed=0: the controller's credentials, the node's service files and the
    # cluster's own configuration are not written again either.
    node_dirs = (f"~/.local/state/label-studio/{own.name}", f"{own.data_dir}-postgresql/*.conf")
    before = files_state(own.credentials_dir), node_files_state(ssh_node, *node_dirs)
    # The re-run and the --check --diff run at once: each must find nothing to change.
    rerun, preview = at_once(own.deploy, lambda: own.deploy(check=True, diff=True))
    rerun.assert_unchanged()
    preview.assert_unchanged()
    assert_untouched(before[0], own.credentials_dir)
    assert node_files_state(ssh_node, *node_dirs) == before[1]


def test_cluster_of_an_earlier_version_is_refused(own, ssh_node):
    # A cluster made by the earlier layout (initdb's pg_hba.conf: TCP, Label Studio as superuser)
    # is not converted in place: deploy stops before writing anything and says how to move.
    # The deploy asks for a change (one more variable in the service's env file), so a refusal
    # that came after the writes would show as a rewritten file.
    hba = f"{own.data_dir}-postgresql/pg_hba.conf"
    node_dirs = (f"~/.local/state/label-studio/{own.name}", f"{own.data_dir}-postgresql/*.conf")
    assert ssh_node.run(f"cp -p {hba} {hba}.kept && sed -i 1d {hba}").returncode == 0
    try:
        before = files_state(own.credentials_dir), node_files_state(ssh_node, *node_dirs)
        pids = postmaster_pid(ssh_node, own), own.supervisorctl("pid", "label-studio").stdout
        assert pids[1].strip().isdigit(), pids
        run = own.deploy({"label_studio_extra_env": {"STUDY_TEST_NOT_WRITTEN": "1"}})
        after = node_files_state(ssh_node, *node_dirs)  # the earlier layout's pg_hba.conf too
    finally:
        ssh_node.run(f"mv {hba}.kept {hba}")
    assert run.returncode != 0
    assert "made by an earlier version" in run.output and "docs/postgresql.md" in run.output, run.output[-3000:]
    assert f"{own.data_dir}-postgresql" in run.output  # names the cluster
    assert_untouched(before[0], own.credentials_dir)
    assert after == before[1]
    assert (postmaster_pid(ssh_node, own), own.supervisorctl("pid", "label-studio").stdout) == pids
    assert own.health()


def test_stop_and_start_again(own, ssh_node):
    port = own.extra["label_studio_postgresql_port"]
    own.stop().assert_ok()
    assert ssh_node.run(f"test -e {socket_path(ssh_node, own)}").returncode == 1 and not own.health()
    assert own.deploy().assert_ok().changed > 0
    assert own.health() and listening_addresses(port) == set()
    assert ssh_node.run(f"test -S {socket_path(ssh_node, own)}").returncode == 0
    assert node_sql(ssh_node, own, "SELECT count(*) FROM project") == "6"


def test_root_cannot_run_an_own_cluster(make_instance):
    inst = make_instance(label_studio_database="postgresql", label_studio_postgresql_port=free_port())
    run = inst.deploy()
    assert run.returncode != 0
    assert "PostgreSQL refuses to run as root" in run.output
    assert not inst.health()


@pytest.fixture(scope="module")
def db_host():
    server = start_server("127.0.0.2")
    yield server
    server.stop()


def db_host_inventory(path: Path, server) -> Path:
    """This machine runs Label Studio; the database lives on host "dbhost" (127.0.0.2)."""
    path.write_text("\n".join([
        "label_studio:", "  hosts:", "    localhost:", "      ansible_connection: local",
        "      ansible_python_interpreter: \"{{ ansible_playbook_python }}\"",
        "label_studio_db:", "  hosts:", "    dbhost:", "      ansible_host: 127.0.0.2", ""]))
    return path


@pytest.fixture(scope="module")
def db_host_runs(db_host, make_instance, tmp_path_factory) -> dict:
    """The deploys the db host refuses, at once (each its own instance, database and role; a
    refused deploy writes nothing, so none changes what another reads): {case: (inst, run)}.
    "missing" is test_external_server_on_a_db_host's instance before its password exists."""
    cases = {
        # TLS with the server's certificate checked against the given root (issue 13).
        "missing": (("study", "annotation", "Db-Host-Pw-61c2"),
                    {"label_studio_postgresql_sslmode": "verify-full",
                     "label_studio_postgresql_sslrootcert": str(db_host.cert)}),
        "wrong password": (("other", "other_user", "Right-Pw-0a9d"),
                           {"label_studio_postgresql_password": "Wrong-Pw-77e1"}),
        # verify-full with no root certificate to check the server's against.
        "untrusted": (("unverified", "unverified_user", "Unverified-Pw-5b1e"),
                      {"label_studio_postgresql_password": "Unverified-Pw-5b1e",
                       "label_studio_postgresql_sslmode": "verify-full"}),
        # A server (or an impostor) that asks for the password in clear text.
        "cleartext": (("cleartext", CLEARTEXT_USER, "Cleartext-Pw-2c4d"),
                      {"label_studio_postgresql_password": "Cleartext-Pw-2c4d"}),
    }
    made = {}
    for case, ((name, user, password), more) in cases.items():
        db_host.create_database(name, user, password)
        inst = make_instance(label_studio_database="postgresql", label_studio_postgresql_port=db_host.port,
                             label_studio_postgresql_name=name, label_studio_postgresql_user=user, **more)
        inst.inventory = db_host_inventory(tmp_path_factory.mktemp("db-host") / "hosts.yml", db_host)
        made[case] = inst
    runs = at_once(*(inst.deploy for inst in made.values()))
    return {case: (inst, run) for (case, inst), run in zip(made.items(), runs)}


def test_external_server_on_a_db_host(db_host, db_host_runs):
    inst, missing = db_host_runs["missing"]
    # No password given yet: refused before anything is written.
    assert missing.returncode != 0
    assert "postgresql_password" in missing.output and "127.0.0.2" in missing.output
    assert not inst.data_dir.exists()
    # Not even the generated secrets (admin password, token, SECRET_KEY) on the controller.
    assert not inst.credentials_dir.exists(), sorted(p.name for p in inst.credentials_dir.iterdir())
    # Nor the service's files (service.env would hold SECRET_KEY) in the state dir.
    assert not inst.state_dir.exists(), sorted(p.name for p in inst.state_dir.rglob("*"))

    inst.credentials_dir.mkdir(mode=0o700, exist_ok=True)
    secret = inst.credentials_dir / "postgresql_password"
    secret.write_text("Db-Host-Pw-61c2\n")
    secret.chmod(0o600)
    first = inst.deploy().assert_ok()
    assert "Db-Host-Pw-61c2" not in first.output
    assert inst.health()
    assert db_host.sql("SELECT count(*) FROM project", database="study") == "6"
    assert not (inst.data_dir / "label_studio.sqlite3").exists()
    env = (inst.state_dir / "service.env").read_text()
    assert "POSTGRE_HOST=127.0.0.2" in env
    assert "PGSSLMODE=verify-full" in env and f"PGSSLROOTCERT={db_host.cert}" in env
    assert "PGREQUIREAUTH=scram-sha-256" in env and "PGCHANNELBINDING=require" in env
    # Every connection Label Studio, the check and the deploy made was over TLS (Django closes
    # its connections after each request, so the server's log, not pg_stat_ssl, shows them all).
    made = db_host.connections("annotation")
    assert made and all("SSL enabled" in line for line in made), made
    inst.deploy().assert_unchanged()


def test_wrong_password_for_the_db_host_fails_clearly(db_host, db_host_runs):
    _inst, run = db_host_runs["wrong password"]
    assert run.returncode != 0
    assert f"PostgreSQL refused database other as other_user on 127.0.0.2:{db_host.port}" in run.output
    assert "password authentication failed" in run.output
    assert "Wrong-Pw-77e1" not in run.output


def test_db_host_without_a_trusted_certificate_is_refused(db_host_runs):
    # verify-full with no root certificate to check the server's against: libpq refuses before
    # sending anything, and deploy says why.
    _inst, run = db_host_runs["untrusted"]
    assert run.returncode != 0
    assert "PostgreSQL refused database unverified as unverified_user on 127.0.0.2" in run.output
    assert "root certificate file" in run.output, run.output[-3000:]
    assert "Unverified-Pw-5b1e" not in run.output


def test_db_host_asking_for_a_clear_text_password_is_refused(db_host_runs):
    # A server (or an impostor) that asks for the password in clear text gets nothing: SCRAM is
    # required of the server (libpq's require_auth, via PGREQUIREAUTH in the env file).
    _inst, run = db_host_runs["cleartext"]
    assert run.returncode != 0
    assert f"PostgreSQL refused database cleartext as {CLEARTEXT_USER} on 127.0.0.2" in run.output
    assert "scram-sha-256" in run.output and "cleartext password" in run.output, run.output[-3000:]
    assert "Cleartext-Pw-2c4d" not in run.output
