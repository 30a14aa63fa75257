"""The installer honours the node account's own package settings (issue 15).

On the SSH rig's unprivileged account (no SSL_CERT_FILE, no PIP_* variables: what a fresh
cluster account has), a package that exists only where that account's pip.conf points
(find-links) must install with uv, given what roles/label_studio_env/files/installer_env.py
reads from pip. Without those settings the same uv command fails: that is the node today."""
from __future__ import annotations

import base64
import contextlib
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

SCRIPT = REPO / "roles/label_studio_env/files/installer_env.py"


def probe_wheel(directory: Path, version: str = "0.1") -> Path:
    """A minimal, valid wheel of a package no index has."""
    info = f"ls_study_probe-{version}.dist-info"
    files = {"ls_study_probe/__init__.py": f"FOUND = True\nVERSION = {version!r}\n".encode(),
             f"{info}/METADATA":
                 f"Metadata-Version: 2.1\nName: ls-study-probe\nVersion: {version}\n".encode(),
             f"{info}/WHEEL":
                 b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
    record = []
    for name, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(data)}")
    record.append(f"{info}/RECORD,,")
    path = directory / f"ls_study_probe-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as whl:
        for name, data in files.items():
            whl.writestr(name, data)
        whl.writestr(f"{info}/RECORD", "\n".join(record) + "\n")
    return path


def simple_index(directory: Path, version: str) -> Path:
    """A file:// package index (PEP 503 layout) holding only ls-study-probe `version`."""
    page = directory / "simple/ls-study-probe"
    page.mkdir(parents=True)
    wheel = probe_wheel(directory, version)
    (page / "index.html").write_text(f'<a href="../../{wheel.name}">{wheel.name}</a>\n')
    for path in (directory, directory / "simple", page, wheel, page / "index.html"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return directory / "simple"


@contextlib.contextmanager
def pip_conf(ssh_node, make_settings):
    """The node account's pip.conf with the [global] lines make_settings(shared dir) returns, and
    a copy of the settings script the account can read; yields (shared dir, script)."""
    shared = Path(tempfile.mkdtemp(prefix="pip-settings-", dir="/tmp"))
    shared.chmod(0o755)
    script = shared / SCRIPT.name
    shutil.copy(SCRIPT, script)
    script.chmod(0o644)
    account = pwd.getpwnam(ssh_node.user)
    conf = ssh_node.home / ".config/pip/pip.conf"
    existed = conf.exists()
    conf.parent.mkdir(parents=True, exist_ok=True)
    os.chown(conf.parent, account.pw_uid, account.pw_gid)
    conf.write_text("[global]\n" + make_settings(shared))
    os.chown(conf, account.pw_uid, account.pw_gid)
    try:
        yield shared, script
    finally:
        if not existed:
            conf.unlink()
        shutil.rmtree(shared)


@pytest.fixture
def node_pip_conf(ssh_node):
    """The node account's pip.conf naming a find-links dir (a site's wheelhouse)."""
    def settings(shared: Path) -> str:
        wheels = shared / "wheels"
        wheels.mkdir(mode=0o755)
        probe_wheel(wheels).chmod(0o644)
        return f"find-links = {wheels}\n"
    with pip_conf(ssh_node, settings) as (shared, script):
        yield shared / "wheels", script


@pytest.fixture
def node_pip_indexes(ssh_node):
    """The node account's pip.conf naming two extra indexes: 0.1 on the first, 0.2 on the second."""
    def settings(shared: Path) -> str:
        urls = [simple_index(shared / name, version).as_uri()
                for name, version in (("first", "0.1"), ("second", "0.2"))]
        return f"extra-index-url = {' '.join(urls)}\n"
    with pip_conf(ssh_node, settings) as (_, script):
        yield script


@pytest.fixture
def node_venv(ssh_node):
    venv = f"{ssh_node.home}/pip-settings-venv"
    made = ssh_node.run(f"rm -rf {venv} && /usr/bin/python3 -m venv {venv}")
    assert made.returncode == 0, made.stderr
    yield venv
    ssh_node.run(f"rm -rf {venv}")


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


def test_uv_takes_the_best_version_from_all_indexes_as_pip_does(ssh_node, env_dir, node_pip_indexes,
                                                                 node_venv):
    # pip looks at every index and takes the best version; uv by default stops at the first
    # index that has the package at all (here: 0.1 only). On this test machine that made uv
    # fail on label-studio's ordered-set==4.0.2 and the deploy fall back to pip (issue 16).
    install = f"{env_dir / 'bin/uv'} pip install --python {node_venv}/bin/python ls-study-probe==0.2"
    settings = ssh_node.run(f"{node_venv}/bin/python {node_pip_indexes}")
    assert settings.returncode == 0, settings.stderr
    env = json.loads(settings.stdout)
    first_only = " ".join(f"{name}={shlex.quote(value)}" for name, value in env.items()
                          if name != "UV_INDEX_STRATEGY")
    assert ssh_node.run(f"env {first_only} {install}").returncode != 0, \
        "uv found 0.2 without the index strategy: the test proves nothing"

    assigned = " ".join(f"{name}={shlex.quote(value)}" for name, value in env.items())
    configured = ssh_node.run(f"env {assigned} {install}")
    assert configured.returncode == 0, configured.stderr
    imported = ssh_node.run(f"{node_venv}/bin/python -c 'import ls_study_probe; print(ls_study_probe.VERSION)'")
    assert imported.stdout.strip() == "0.2"
