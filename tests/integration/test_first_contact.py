"""A new user's first contact (issue 15): the README's first command line, taken from the README
itself, on a fresh copy of the checkout with the machine's system Python first on PATH (Debian's
is "externally managed": pip refuses it outside a venv)."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

from support.playbook import REPO

SYSTEM_PATH = "/usr/bin:/bin"  # no pyenv shims, no venv: what a fresh Debian account has


def readme_first_command() -> str:
    setup = (REPO / "README.md").read_text().split("## Set-up: the two commands", 1)[1]
    return re.search(r"```sh\n([^\n]+)\n", setup).group(1)


def fresh_copy(dest: Path) -> Path:
    """The tracked files as they are now (in CI: a fresh clone), without .venv or caches."""
    files = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True,
                           check=True).stdout.decode().split("\0")
    for name in filter(None, files):
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, target, follow_symlinks=False)  # playbooks/group_vars is a link
    return dest


def test_readme_first_command_deploys_with_the_system_python(server, tmp_path):
    line = readme_first_command()
    assert line.startswith("python3 -m venv ") and line.endswith("ansible-playbook deploy.yml"), line
    checkout = fresh_copy(tmp_path / "checkout")
    # The shared test instance stands in for "this machine": same data dir, port and secrets,
    # so the run is a real deploy that finds everything in place (the instance's first deploy
    # is covered by test_deploy.py). Extra vars go in a file appended to the line as -e @file.
    extra = tmp_path / "vars.json"
    extra.write_text(json.dumps(server.extra_vars))
    env = {"PATH": SYSTEM_PATH, "HOME": os.environ["HOME"], "LANG": "C.UTF-8",
           "ANSIBLE_NOCOLOR": "1"}
    assert Path(shutil.which("python3", path=SYSTEM_PATH)).resolve().parent == Path("/usr/bin")
    proc = subprocess.run(["bash", "-c", f"{line} -e @{extra}"], cwd=checkout, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=1800)
    assert proc.returncode == 0, proc.stdout[-6000:]
    venv_python = (checkout / ".venv/bin/python").resolve()
    assert venv_python.parent == Path("/usr/bin"), venv_python
    assert re.search(r"failed=0", proc.stdout)
    assert server.health()

    # The run ends by saying how to log in, naming files, never their contents.
    message = " ".join(proc.stdout[proc.stdout.rindex("Say how to log in"):].split())
    assert server.url in message
    assert "admin@label-studio.local" in message
    assert str(server.credentials_dir / "admin_password") in message
    assert str(server.credentials_dir / "invite-link") in message
    assert "playbooks/assign.yml" in message and "export.yml" in message
    for secret in ("admin_password", "api_token", "secret_key"):
        value = (server.credentials_dir / secret).read_text().strip()
        assert value not in proc.stdout, f"the {secret} is in the output"
