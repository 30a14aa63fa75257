"""The installer honours the node account's own package settings (issue 15).

On the SSH rig's unprivileged account (no SSL_CERT_FILE, no PIP_* variables: what a fresh
cluster account has), a package that exists only where that account's pip.conf points
(find-links) must install with uv, given what roles/label_studio_env/files/uv_settings_from_pip.py
reads from pip. Without those settings the same uv command fails: that is the node today."""
from __future__ import annotations

import base64
import hashlib
import json
import os
import pwd
import shlex
import shutil
import tempfile
import zipfile
from pathlib import Path

import pytest

from support.playbook import REPO

pytestmark = pytest.mark.ssh

SCRIPT = REPO / "roles/label_studio_env/files/uv_settings_from_pip.py"


def probe_wheel(directory: Path) -> Path:
    """A minimal, valid wheel of a package no index has."""
    files = {"ls_study_probe/__init__.py": b"FOUND = True\n",
             "ls_study_probe-0.1.dist-info/METADATA":
                 b"Metadata-Version: 2.1\nName: ls-study-probe\nVersion: 0.1\n",
             "ls_study_probe-0.1.dist-info/WHEEL":
                 b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
    record = []
    for name, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(data)}")
    record.append("ls_study_probe-0.1.dist-info/RECORD,,")
    path = directory / "ls_study_probe-0.1-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as whl:
        for name, data in files.items():
            whl.writestr(name, data)
        whl.writestr("ls_study_probe-0.1.dist-info/RECORD", "\n".join(record) + "\n")
    return path


@pytest.fixture
def node_pip_conf(ssh_node):
    """The node account's pip.conf naming a find-links dir (a site's wheelhouse)."""
    shared = Path(tempfile.mkdtemp(prefix="pip-settings-", dir="/tmp"))
    shared.chmod(0o755)
    wheels = shared / "wheels"
    wheels.mkdir(mode=0o755)
    probe_wheel(wheels).chmod(0o644)
    script = shared / SCRIPT.name
    shutil.copy(SCRIPT, script)
    script.chmod(0o644)
    account = pwd.getpwnam(ssh_node.user)
    conf = ssh_node.home / ".config/pip/pip.conf"
    existed = conf.exists()
    conf.parent.mkdir(parents=True, exist_ok=True)
    os.chown(conf.parent, account.pw_uid, account.pw_gid)
    conf.write_text(f"[global]\nfind-links = {wheels}\n")
    os.chown(conf, account.pw_uid, account.pw_gid)
    yield wheels, script
    if not existed:
        conf.unlink()
    shutil.rmtree(shared)


def test_uv_finds_what_only_pip_config_names(ssh_node, env_dir, node_pip_conf):
    wheels, script = node_pip_conf
    uv = env_dir / "bin/uv"
    venv = f"{ssh_node.home}/pip-settings-venv"
    made = ssh_node.run(f"rm -rf {venv} && /usr/bin/python3 -m venv {venv}")
    assert made.returncode == 0, made.stderr
    try:
        install = f"{uv} pip install --python {venv}/bin/python ls-study-probe"
        bare = ssh_node.run(install)
        assert bare.returncode != 0, "uv found the package without pip's settings: the test proves nothing"

        settings = ssh_node.run(f"{venv}/bin/python {script}")
        assert settings.returncode == 0, settings.stderr
        env = json.loads(settings.stdout)
        assert env["UV_FIND_LINKS"] == str(wheels)
        assert env["UV_NATIVE_TLS"] == "1"

        assigned = " ".join(f"{name}={shlex.quote(value)}" for name, value in env.items())
        configured = ssh_node.run(f"env {assigned} {install}")
        assert configured.returncode == 0, configured.stderr
        imported = ssh_node.run(f"{venv}/bin/python -c 'import ls_study_probe; print(ls_study_probe.FOUND)'")
        assert imported.stdout.strip() == "True"
    finally:
        ssh_node.run(f"rm -rf {venv}")
