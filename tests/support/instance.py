"""A Label Studio instance deployed by the project's own playbook, for tests."""
from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .background import at_once
from .crontab import crontab_without, edit_crontab
from .net import free_port
from .playbook import PlaybookRun, run_playbook

if TYPE_CHECKING:
    from .sshnode import SshNode

DEFAULT_VERSION = "1.23.2"


def instance_name(data_dir: str) -> str:
    """Same derivation as roles/label_studio_instance/defaults/main.yml."""
    return "ls-" + hashlib.sha1(data_dir.encode()).hexdigest()[:10]


@dataclass
class Instance:
    data_dir: Path
    port: int
    env_dir: Path
    credentials_dir: Path
    extra: dict = field(default_factory=dict)
    home: Path = field(default_factory=lambda: Path(os.path.expanduser("~")))
    # A node reached over SSH: the inventory every playbook of this instance runs with (None:
    # the default, local inventory). state_dir and supervisorctl() stay local-only.
    inventory: Path | None = None
    # The controller port the tests reach Label Studio on, e.g. an SSH tunnel's local end
    # (None: label_studio_port itself). url, api() and health() go through it.
    url_port: int | None = None
    # The SSH rig's node the instance lives on (made by on_node()); remove() cleans up there.
    node: SshNode | None = None
    removed: bool = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.url_port or self.port}"

    @property
    def name(self) -> str:
        return instance_name(str(self.data_dir))

    @property
    def state_dir(self) -> Path:
        return self.home / ".local/state/label-studio" / self.name

    @property
    def token(self) -> str:
        return (self.credentials_dir / "api_token").read_text().strip()

    @property
    def admin_password(self) -> str:
        return (self.credentials_dir / "admin_password").read_text().strip()

    @property
    def extra_vars(self) -> dict:
        return {
            "label_studio_data_dir": str(self.data_dir),
            "label_studio_port": self.port,
            "label_studio_env_dir": str(self.env_dir),
            "label_studio_credentials_dir": str(self.credentials_dir),
            # Debian's interpreter: the SSH rig's unprivileged account can run it (root's pyenv
            # lives under /root, 0700), so every test shares one environment.
            "label_studio_python": "/usr/bin/python3",
            **self.extra,
        }

    def playbook(self, playbook: str, more: dict | None = None, **kwargs) -> PlaybookRun:
        if self.inventory is not None:
            kwargs.setdefault("inventory", str(self.inventory))
        return run_playbook(playbook, {**self.extra_vars, **(more or {})}, **kwargs)

    def deploy(self, more: dict | None = None, **kwargs) -> PlaybookRun:
        return self.playbook("deploy.yml", more, **kwargs)

    def stop(self) -> PlaybookRun:
        return self.deploy({"label_studio_state": "stopped"})

    def remove(self) -> PlaybookRun:
        """A node instance: stop it, then delete its work dir and state dir on the node. Returns
        the stop run (the work dir goes either way)."""
        assert self.node is not None, "remove() is for instances made by on_node()"
        self.removed = True
        stopped = self.stop()
        rm = self.node.run(f"rm -rf {self.data_dir.parent} ~/.local/state/label-studio/{self.name}")
        if rm.returncode != 0:  # e.g. another test session's rig rewrote the node's authorized_keys
            warnings.warn(f"node cleanup failed, {self.data_dir.parent} left behind: {rm.stderr.strip()}")
        return stopped

    def supervisorctl(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(self.env_dir / "bin/supervisorctl"), "-c",
                               str(self.state_dir / "supervisord.conf"), *args],
                              capture_output=True, text=True)

    def api(self, method: str, path: str, body=None, token: str | None = None):
        """A raw API call (the tests' own, independent of module_utils)."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method, headers={
            "Authorization": "Token " + (token or self.token), "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=120) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else None

    def health(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + "/health", timeout=2) as resp:
                return b'"UP"' in resp.read()
        except (urllib.error.URLError, OSError):
            return False


def on_node(node: SshNode, env_dir: Path, credentials_dir: Path, prefix: str = "test",
            **extra) -> Instance:
    """An instance on the SSH rig's unprivileged node account (not deployed yet): data dir in a
    fresh work dir under the node's /tmp, state under the node account's home, credentials on
    this machine (the controller), every playbook run through the node's inventory. The node's
    server listens on 127.0.0.1 of this same machine, so url/api()/health() reach it directly."""
    workdir = node.run(f"mktemp -d /tmp/ls-{prefix}-XXXXXX").stdout.strip()
    assert workdir, "could not make a work dir on the node"
    return Instance(data_dir=Path(workdir) / "data", port=free_port(), env_dir=env_dir,
                    credentials_dir=credentials_dir, extra=extra, home=node.home,
                    inventory=node.inventory(), node=node)


def shut_down(instances: list[Instance], limit: float = 120) -> None:
    """The end of a test session: for local instances what `deploy.yml -e label_studio_state=stopped`
    does (supervisord and Label Studio shut down, the port free, the instance's crontab lines gone),
    for all of them at once instead of one playbook run each (~5 s apiece, over a minute per
    session). Checks nothing: the stop itself is tested through the playbook (test_deploy,
    test_backup). Cleanup that fails only warns."""
    at_once(*(lambda inst=inst: inst.supervisorctl("shutdown") for inst in instances))  # ~1 s apiece
    deadline = time.monotonic() + limit
    for inst in instances:
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", inst.port), timeout=1).close()
            except OSError:
                break
            time.sleep(0.2)
        else:
            warnings.warn(f"instance on port {inst.port} still listens after shutdown")
    names = {inst.name for inst in instances}
    try:
        edit_crontab(lambda crontab: crontab_without(names, crontab))
    except (RuntimeError, OSError, subprocess.CalledProcessError) as err:
        warnings.warn(f"crontab cleanup failed: {err}")
