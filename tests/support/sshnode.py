"""A "cluster node" for tests: a real sshd on loopback and an unprivileged account."""
from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from .net import free_port


@dataclass
class SshNode:
    user: str
    home: Path
    port: int
    key: Path
    known_hosts: Path
    workdir: Path
    process: subprocess.Popen

    def inventory(self, host_vars: dict | None = None) -> Path:
        """An inventory with this node in group label_studio, as a user would write it."""
        lines = ["label_studio:", "  hosts:", "    node1:",
                 "      ansible_host: 127.0.0.1",
                 f"      ansible_port: {self.port}",
                 f"      ansible_user: {self.user}",
                 f"      ansible_ssh_private_key_file: {self.key}",
                 "      ansible_python_interpreter: /usr/bin/python3",
                 f"      ansible_ssh_common_args: -o UserKnownHostsFile={self.known_hosts}"
                 " -o StrictHostKeyChecking=yes"]
        for name, value in (host_vars or {}).items():
            lines.append(f"      {name}: {value!r}" if not isinstance(value, int) else f"      {name}: {value}")
        path = self.workdir / f"inventory-{len(list(self.workdir.glob('inventory-*')))}.yml"
        path.write_text("\n".join(lines) + "\n")
        return path

    def run(self, command: str) -> subprocess.CompletedProcess:
        """Run a shell command on the node as its account (through the real sshd)."""
        return subprocess.run(["ssh", "-p", str(self.port), "-i", str(self.key),
                               "-o", f"UserKnownHostsFile={self.known_hosts}",
                               "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes",
                               f"{self.user}@127.0.0.1", command],
                              capture_output=True, text=True, timeout=120)

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def _ensure_account(user: str) -> Path:
    try:
        return Path(pwd.getpwnam(user).pw_dir)
    except KeyError:
        subprocess.run(["useradd", "-m", "-s", "/bin/bash", user], check=True)
        # useradd leaves the account locked; with UsePAM no, sshd refuses locked accounts.
        subprocess.run(["usermod", "-p", "*", user], check=True)
        return Path(pwd.getpwnam(user).pw_dir)


def start_node(workdir: Path, user: str = "lsnode") -> SshNode:
    if os.geteuid() != 0:
        raise RuntimeError("the SSH rig creates an account and runs sshd: run the tests as root")
    workdir.mkdir(parents=True, exist_ok=True)
    home = _ensure_account(user)
    host_key, client_key = workdir / "host_key", workdir / "client_key"
    for key in (host_key, client_key):
        if not key.exists():
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    ent = pwd.getpwnam(user)
    ssh_dir = home / ".ssh"
    ssh_dir.mkdir(mode=0o700, exist_ok=True)
    auth = ssh_dir / "authorized_keys"
    # Appended, not overwritten: a second test session on this machine must not lock the first out.
    key = (workdir / "client_key.pub").read_text()
    if key not in (auth.read_text() if auth.exists() else ""):
        with open(auth, "a") as handle:
            handle.write(key)
    for path, mode in ((ssh_dir, 0o700), (auth, 0o600)):
        os.chown(path, ent.pw_uid, ent.pw_gid)
        path.chmod(mode)
    port = free_port()
    Path("/run/sshd").mkdir(exist_ok=True)
    config = workdir / "sshd_config"
    config.write_text("\n".join([
        f"Port {port}", "ListenAddress 127.0.0.1", f"HostKey {host_key}",
        f"PidFile {workdir / 'sshd.pid'}", "UsePAM no", "PasswordAuthentication no",
        "KbdInteractiveAuthentication no", "PubkeyAuthentication yes",
        "AuthorizedKeysFile .ssh/authorized_keys", "AllowTcpForwarding yes",
        f"AllowUsers {user}", "Subsystem sftp /usr/lib/openssh/sftp-server", ""]))
    sshd = shutil.which("sshd") or "/usr/sbin/sshd"
    proc = subprocess.Popen([sshd, "-D", "-f", str(config), "-E", str(workdir / "sshd.log")])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.1)
    else:
        proc.kill()
        raise RuntimeError(f"sshd did not start: {(workdir / 'sshd.log').read_text()}")
    known = workdir / "known_hosts"
    known.write_text(f"[127.0.0.1]:{port} " + (workdir / "host_key.pub").read_text())
    return SshNode(user, home, port, client_key, known, workdir, proc)
