"""Issue 13, items 3, 4 and 7: Label Studio's port on a shared node.

3. Another account listens on Label Studio's port while it is stopped: modules, assign.yml and
   deploy's checks stop with a message naming the port and the uid, and the impostor receives no
   token and no report text. The service's launcher fails instead of moving to another port.
4. Proxy variables point at a recording listener: deploy and export send it nothing.
7. A non-loopback label_studio_host / label_studio_tunnel_bind is refused before anything changes.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time

import pytest

from support.files import assert_untouched, files_state
from support.modules import run_module
from support.net import free_port, listening_addresses, tcp_listening_ports_of
from support.other_account import as_other_account, other_account
from support.playbook import REPO
from support.processes import descendants
from support.recorder import Recorder

EXAMPLE = REPO / "files/study"
PROXY_VARIABLES = ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY")


def report_texts() -> list[bytes]:
    texts = set()
    for report in json.loads((EXAMPLE / "reports.json").read_text()):
        texts.update(v for k, v in report.items() if isinstance(v, str) and len(v) > 20)
    return [t.encode() for t in texts] + [json.dumps(t).encode()[1:-1] for t in texts]


def assert_nothing_secret(received: bytes, inst) -> None:
    assert inst.token.encode() not in received, "the API token reached the listener"
    assert b"Token " not in received and b"Authorization" not in received
    leaked = [t for t in report_texts() if t in received]
    assert not leaked, f"report text reached the listener: {leaked[:1]}"


def refusal(text: str, port: int) -> None:
    uid = other_account().pw_uid
    assert f"port {port} is held by uid {uid} (ls-study-other)" in text, text[-3000:]


def deploy_ahead(make_instance, tmp_path_factory):
    """The instance, not deployed yet: conftest.py deploys it (deployed_ahead)."""
    work = tmp_path_factory.mktemp("impostor")
    shutil.copy(EXAMPLE / "assignments.xlsx", work / "assignments.xlsx")
    return make_instance(study_assignments=str(work / "assignments.xlsx"),
                         study_task_files_dir=str(work / "tasks"), study_export_dir=str(work / "exports"),
                         study_api_wait_seconds=3)


@pytest.fixture(scope="module")
def stopped(deployed_ahead):
    """A deployed study, then stopped: its port is free for anyone."""
    (inst,), (run,) = deployed_ahead
    run.assert_ok()
    inst.stop().assert_ok()
    return inst


@pytest.fixture
def impostor(stopped):
    recorder = Recorder(stopped.port, as_other_account)
    yield recorder
    recorder.stop()


def test_a_module_refuses_an_impostor_on_the_port(stopped, impostor):
    result = run_module("label_studio_progress", {
        "annotators": ["annotator1"], "url": f"http://127.0.0.1:{stopped.port}", "wait_seconds": 3,
        "token_file": str(stopped.state_dir / "api_token")})
    assert result["failed"]
    refusal(result["msg"], stopped.port)
    assert_nothing_secret(impostor.received(), stopped)


def test_assign_refuses_an_impostor_on_the_port(stopped, impostor):
    run = stopped.playbook("playbooks/assign.yml", {"batch": "batch1"})
    assert run.returncode != 0
    refusal(run.output, stopped.port)
    assert_nothing_secret(impostor.received(), stopped)


def test_deploy_refuses_an_impostor_on_the_port(stopped, impostor):
    run = stopped.deploy()
    assert run.returncode != 0
    refusal(run.output, stopped.port)
    assert_nothing_secret(impostor.received(), stopped)


def test_the_launcher_fails_rather_than_move_to_another_port(stopped, impostor):
    """The race deploy's own check cannot close: the port is taken between the check and the bind."""
    launcher = stopped.state_dir / "launch-label-studio"
    assert launcher.exists(), "no launcher: label-studio start would move to the next free port"
    # Watched while it runs: a launcher that moved to another port would listen there (and
    # never exit), so every listening socket of its processes is looked for until it exits.
    with tempfile.TemporaryFile("w+") as output:
        proc = subprocess.Popen([str(stopped.state_dir / "with-service-env"), str(stopped.env_dir / "bin/python"),
                                 str(launcher), "start", "--no-browser", "--internal-host", "127.0.0.1",
                                 "--port", str(stopped.port)],
                                cwd=stopped.data_dir, stdout=output, stderr=subprocess.STDOUT, text=True)
        listened, deadline = set(), time.monotonic() + 900
        try:
            while proc.poll() is None and not listened and time.monotonic() < deadline:
                for pid in [proc.pid, *descendants(proc.pid)]:
                    try:
                        listened.update(tcp_listening_ports_of(pid))
                    except OSError:  # it exited meanwhile
                        pass
                time.sleep(0.2)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        output.seek(0)
        text = output.read()
    assert not listened, f"the launcher listened on port(s) {sorted(listened)} instead of failing"
    assert proc.returncode != 0, text[-3000:]
    assert "already in use" in text


def test_proxies_from_the_environment_receive_nothing(server, tmp_path):
    proxy = Recorder(free_port())
    env = {name: f"http://127.0.0.1:{proxy.port}" for name in PROXY_VARIABLES}
    env.update(no_proxy="", NO_PROXY="")
    try:
        server.deploy(env=env).assert_ok()
        server.playbook("export.yml", {"study_export_dir": str(tmp_path / "exports")}, env=env).assert_ok()
        assert proxy.received() == b""
    finally:
        proxy.stop()


@pytest.mark.parametrize("variables", [{"label_studio_host": "0.0.0.0"}, {"label_studio_host": "10.1.2.3"}])
def test_a_non_loopback_host_is_refused_before_anything_changes(server, variables):
    # The service's and the controller's files (the data dir is the running server's own).
    before = files_state(server.state_dir, server.credentials_dir)
    run = server.deploy(variables)
    assert run.returncode != 0
    assert f"label_studio_host={variables['label_studio_host']} is not a loopback address" in run.output
    assert "label_studio_allow_non_loopback" in run.output
    assert run.recap and run.changed == 0, run.recap  # no task changed anything before the refusal
    assert_untouched(before, server.state_dir, server.credentials_dir)
    assert listening_addresses(server.port) == {"127.0.0.1"}
    assert server.health()


def test_a_non_loopback_tunnel_bind_is_refused(server):
    run = server.playbook("playbooks/tunnel.yml", {"label_studio_tunnel_bind": "0.0.0.0"})
    assert run.returncode != 0
    assert "label_studio_tunnel_bind=0.0.0.0 is not a loopback address" in run.output
