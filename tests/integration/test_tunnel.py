"""playbooks/tunnel.yml: a real ssh tunnel from this machine (the controller) to a Label Studio
deployed by deploy.yml on the loopback sshd rig's unprivileged account (the "node")."""
from __future__ import annotations

import os
import socket
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from support.instance import Instance
from support.net import free_port
from support.playbook import PlaybookRun, run_playbook

pytestmark = [pytest.mark.ssh, pytest.mark.slow]

@pytest.fixture(scope="module")
def node_server(node_study):
    """Label Studio deployed over SSH on the rig's node account (the session's; the tunnels only
    need it to answer /health behind them)."""
    return node_study


class Tunnels:
    """Runs playbooks/tunnel.yml against the node with its own controller-side tunnel dir."""

    def __init__(self, server: Instance, tunnel_dir: Path):
        self.server = server
        self.dir = tunnel_dir
        self.local_port = free_port()

    def run(self, state: str = "present", inventory: Path | None = None, check: bool = False,
            **more) -> PlaybookRun:
        extra_vars = {**self.server.extra_vars, "label_studio_tunnel_dir": str(self.dir),
                      "label_studio_tunnel_local_port": self.local_port, **more}
        # -e tunnel_state=... on the command line, as the playbook documents it.
        return run_playbook("playbooks/tunnel.yml", extra_vars,
                            inventory=str(inventory or self.server.inventory), check=check,
                            diff=check, extra_args=["-e", f"tunnel_state={state}"])

    @property
    def sockets(self) -> list[Path]:
        return sorted(self.dir.glob("*.sock")) if self.dir.exists() else []

    def master_running(self, sock: Path) -> bool:
        return subprocess.run(["ssh", "-S", str(sock), "-O", "check", "node"],
                              capture_output=True).returncode == 0

    def close_all(self) -> None:
        for sock in self.sockets:
            subprocess.run(["ssh", "-S", str(sock), "-O", "exit", "node"], capture_output=True)


@pytest.fixture
def tunnels(node_server, tmp_path_factory):
    # mktemp keeps the path short: the control socket must fit a unix socket path.
    t = Tunnels(node_server, tmp_path_factory.mktemp("tun") / "t")
    yield t
    t.close_all()


def health(port: int) -> bytes | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=10) as resp:
            return resp.read()
    except (urllib.error.URLError, OSError):
        return None


def listener(port: int) -> str:
    """`ss` lines of the processes listening on the port, on any address ('' if none)."""
    return subprocess.run(["ss", "-Hltnp", f"sport = :{port}"], capture_output=True, text=True,
                          check=True).stdout.strip()


def listening_addresses(port: int) -> set[str]:
    """The local addresses the port's listeners are bound to (ss's fourth column, port cut off)."""
    return {line.split()[3].rsplit(":", 1)[0] for line in listener(port).splitlines()}


def test_tunnel_is_up_idempotent_and_private(tunnels, node_server):
    first = tunnels.run().assert_ok()
    assert first.changed > 0
    assert tunnels.local_port != node_server.port
    assert b'"UP"' in (health(tunnels.local_port) or b""), "no /health through the tunnel"
    assert '"ssh"' in listener(tunnels.local_port), listener(tunnels.local_port)
    # Private: this machine's other interfaces (and its ::1) do not reach the study.
    assert listening_addresses(tunnels.local_port) == {"127.0.0.1"}, listener(tunnels.local_port)
    [sock] = tunnels.sockets
    assert tunnels.master_running(sock)
    assert f"http://127.0.0.1:{tunnels.local_port}" in first.output
    assert tunnels.dir.stat().st_mode & 0o777 == 0o700
    assert all(p.stat().st_mode & 0o077 == 0 for p in tunnels.dir.iterdir())

    tunnels.run().assert_unchanged()
    tunnels.run(check=True).assert_unchanged()
    assert b'"UP"' in (health(tunnels.local_port) or b"")


def test_absent_closes_the_tunnel(tunnels):
    tunnels.run().assert_ok()
    [sock] = tunnels.sockets

    closed = tunnels.run("absent").assert_ok()
    assert closed.changed > 0
    assert not tunnels.master_running(sock)
    assert listener(tunnels.local_port) == "", "the local port is still open"
    assert health(tunnels.local_port) is None
    assert list(tunnels.dir.iterdir()) == []

    tunnels.run("absent").assert_unchanged()


def test_dead_tunnel_is_reopened(tunnels):
    # A laptop that slept or lost the network: ssh is gone, its control socket is left behind.
    tunnels.run().assert_ok()
    [sock] = tunnels.sockets
    check = subprocess.run(["ssh", "-S", str(sock), "-O", "check", "node"], capture_output=True,
                           text=True)
    pid = int(check.stderr.split("pid=")[1].split(")")[0])
    os.kill(pid, 9)
    assert sock.exists() and not tunnels.master_running(sock)

    reopened = tunnels.run().assert_ok()
    assert reopened.changed > 0
    assert tunnels.master_running(sock)
    assert b'"UP"' in (health(tunnels.local_port) or b"")


def test_check_mode_opens_nothing(tunnels):
    tunnels.run(check=True).assert_ok()
    assert tunnels.sockets == []
    assert listener(tunnels.local_port) == ""


def test_taken_local_port_is_refused_and_nothing_started(tunnels):
    # Another program (a local Label Studio, say) already serves on the port.
    with socket.socket() as other:
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        other.bind(("127.0.0.1", tunnels.local_port))
        other.listen()
        run = tunnels.run()
        assert run.returncode != 0
        assert f"Local port {tunnels.local_port} on 127.0.0.1 is already in use" in run.output
        assert "label_studio_tunnel_local_port" in run.output
        assert "Refuse a local port that is taken" in run.output
        assert tunnels.sockets == []
        assert '"ssh"' not in listener(tunnels.local_port)


def test_new_local_port_moves_the_tunnel(tunnels):
    tunnels.run().assert_ok()
    old_port, tunnels.local_port = tunnels.local_port, free_port()

    moved = tunnels.run().assert_ok()
    assert moved.changed > 0
    assert listener(old_port) == "", "the tunnel on the old port was left open"
    assert b'"UP"' in (health(tunnels.local_port) or b"")
    assert len(tunnels.sockets) == 1
    tunnels.run().assert_unchanged()


def test_tunnel_without_label_studio_behind_it_fails_clearly(tunnels):
    nothing_there = free_port()
    run = tunnels.run(label_studio_port=nothing_there, label_studio_tunnel_health_timeout=4)
    assert run.returncode != 0
    assert 'did not answer "UP"' in run.output
    assert f"port {nothing_there}" in run.output
    tunnels.run("absent", label_studio_port=nothing_there).assert_ok()
    assert listener(tunnels.local_port) == ""


def test_tunnel_through_a_proxy_command_in_common_args(tunnels, ssh_node, node_server, tmp_path):
    # The node reached through a jump host (itself here), as a cluster behind a login node is:
    # a quoted ProxyCommand in ansible_ssh_common_args must reach ssh as one option.
    jump = (f"ssh -i {ssh_node.key} -o UserKnownHostsFile={ssh_node.known_hosts} -o BatchMode=yes"
            f" -p {ssh_node.port} -W %h:%p {ssh_node.user}@127.0.0.1")
    inventory = tmp_path / "jump.yml"
    inventory.write_text("\n".join([
        "label_studio:", "  hosts:", "    node1:",
        "      ansible_host: 127.0.0.1",
        f"      ansible_port: {ssh_node.port}",
        f"      ansible_user: {ssh_node.user}",
        f"      ansible_ssh_private_key_file: {ssh_node.key}",
        "      ansible_python_interpreter: /usr/bin/python3",
        "      ansible_ssh_common_args: >-",
        f"        -o UserKnownHostsFile={ssh_node.known_hosts} -o StrictHostKeyChecking=yes",
        f"        -o ProxyCommand=\"{jump}\"", ""]))

    tunnels.run(inventory=inventory).assert_ok()
    assert b'"UP"' in (health(tunnels.local_port) or b"")
    master = subprocess.run(["pgrep", "-af", "ssh -M -S " + str(tunnels.sockets[0])],
                            capture_output=True, text=True).stdout
    assert "-W %h:%p" in master, master
    tunnels.run(inventory=inventory).assert_unchanged()
    tunnels.run("absent", inventory=inventory).assert_ok()
    assert listener(tunnels.local_port) == ""


def test_local_node_needs_no_tunnel(tmp_path):
    # The default inventory: Label Studio runs on this machine.
    run = run_playbook("playbooks/tunnel.yml", {"label_studio_tunnel_dir": str(tmp_path / "t")})
    run.assert_unchanged()
    assert "no tunnel needed" in run.output
    assert not (tmp_path / "t").exists()
