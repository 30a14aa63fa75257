"""label_studio_database=postgresql (issue 8): an own cluster run by the node account, and an
existing server on a separate "db host" given by the inventory's label_studio_db group."""
from __future__ import annotations

from pathlib import Path

import pytest

from support.instance import Instance
from support.net import free_port, listening_addresses
from support.postgres import BIN, node_sql, start_server
from support.processes import watch_cmdlines

pytestmark = [pytest.mark.ssh, pytest.mark.slow, pytest.mark.postgresql]


def node_instance(ssh_node, env_dir, tmp_path_factory, **extra) -> Instance:
    """An instance on the SSH rig's unprivileged account (PostgreSQL refuses to run as root)."""
    workdir = ssh_node.run("mktemp -d /tmp/ls-pg-XXXXXX").stdout.strip()
    assert workdir, "could not make a work dir on the node"
    return Instance(data_dir=Path(workdir) / "data", port=free_port(), env_dir=env_dir,
                    credentials_dir=tmp_path_factory.mktemp("pg-credentials"), extra=extra,
                    home=ssh_node.home, inventory=ssh_node.inventory())


def remove_node_instance(ssh_node, inst: Instance) -> None:
    inst.stop()
    ssh_node.run(f"rm -rf {inst.data_dir.parent} ~/.local/state/label-studio/{inst.name}")


@pytest.fixture(scope="module")
def own(ssh_node, env_dir, tmp_path_factory):
    inst = node_instance(ssh_node, env_dir, tmp_path_factory, label_studio_database="postgresql",
                         label_studio_postgresql_port=free_port())
    with watch_cmdlines() as seen:
        inst.first_run = inst.deploy()
    inst.first_run.assert_ok()
    inst.password = (inst.credentials_dir / "postgresql_password").read_text().strip()
    inst.argv_hits = [cmd for cmd in seen if inst.password.encode() in cmd]
    yield inst
    remove_node_instance(ssh_node, inst)


def test_own_cluster_serves_label_studio(own, ssh_node):
    assert own.health()
    # Label Studio keeps its data in PostgreSQL: six projects there, no SQLite file made.
    assert node_sql(ssh_node, own, "SELECT count(*) FROM project") == "6"
    assert ssh_node.run(f"test -e {own.data_dir}/label_studio.sqlite3").returncode == 1
    assert own.api("GET", "/api/projects/?page_size=100")["count"] == 6


def test_own_cluster_is_private(own, ssh_node):
    port = own.extra["label_studio_postgresql_port"]
    assert listening_addresses(port) == {"127.0.0.1"}
    cluster = f"{own.data_dir}-postgresql"
    modes = ssh_node.run(f"stat -c '%a %n' {cluster} ~/.local/state/label-studio/{own.name}/service.env "
                         f"~/.local/state/label-studio/{own.name}/.s.PGSQL.{port}").stdout.split("\n")
    assert modes[0].startswith("700 ") and modes[1].startswith("600 "), modes
    assert modes[2].startswith("700 "), modes  # the unix socket: the node account only
    mode = (own.credentials_dir / "postgresql_password").stat().st_mode & 0o777
    assert mode == 0o600
    # Password authentication over TCP (scram-sha-256): a wrong password is refused.
    refused = ssh_node.run(f"PGPASSWORD=wrong {BIN}/psql -h 127.0.0.1 -p {port}"
                           " -U label_studio -d label_studio -c 'select 1'")
    assert refused.returncode != 0 and "password authentication failed" in refused.stderr


def test_password_never_in_argv_or_output(own):
    assert own.argv_hits == []
    assert own.password not in own.first_run.output


def test_second_deploy_changes_nothing(own):
    own.deploy().assert_unchanged()
    own.deploy(check=True, diff=True).assert_unchanged()


def test_stop_and_start_again(own, ssh_node):
    port = own.extra["label_studio_postgresql_port"]
    own.stop().assert_ok()
    assert listening_addresses(port) == set() and not own.health()
    assert own.deploy().assert_ok().changed > 0
    assert own.health() and listening_addresses(port) == {"127.0.0.1"}
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


def test_external_server_on_a_db_host(db_host, make_instance, tmp_path):
    db_host.create_database("study", "annotation", "Db-Host-Pw-61c2")
    inst = make_instance(label_studio_database="postgresql", label_studio_postgresql_port=db_host.port,
                         label_studio_postgresql_name="study", label_studio_postgresql_user="annotation")
    inst.inventory = db_host_inventory(tmp_path / "hosts.yml", db_host)

    # No password given yet: refused before anything is written.
    missing = inst.deploy()
    assert missing.returncode != 0
    assert "postgresql_password" in missing.output and "127.0.0.2" in missing.output
    assert not inst.data_dir.exists()

    inst.credentials_dir.mkdir(mode=0o700, exist_ok=True)
    secret = inst.credentials_dir / "postgresql_password"
    secret.write_text("Db-Host-Pw-61c2\n")
    secret.chmod(0o600)
    first = inst.deploy().assert_ok()
    assert "Db-Host-Pw-61c2" not in first.output
    assert inst.health()
    assert db_host.sql("SELECT count(*) FROM project", database="study") == "6"
    assert not (inst.data_dir / "label_studio.sqlite3").exists()
    assert "POSTGRE_HOST=127.0.0.2" in (inst.state_dir / "service.env").read_text()
    inst.deploy().assert_unchanged()


def test_wrong_password_for_the_db_host_fails_clearly(db_host, make_instance, tmp_path):
    db_host.create_database("other", "other_user", "Right-Pw-0a9d")
    inst = make_instance(label_studio_database="postgresql", label_studio_postgresql_port=db_host.port,
                         label_studio_postgresql_name="other", label_studio_postgresql_user="other_user",
                         label_studio_postgresql_password="Wrong-Pw-77e1")
    inst.inventory = db_host_inventory(tmp_path / "hosts.yml", db_host)
    run = inst.deploy()
    assert run.returncode != 0
    assert f"PostgreSQL refused database other as other_user on 127.0.0.2:{db_host.port}" in run.output
    assert "password authentication failed" in run.output
    assert "Wrong-Pw-77e1" not in run.output
