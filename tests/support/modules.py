"""Run one of the project's modules for real, through `ansible` (ad hoc): on localhost, or on a
host of an inventory (the SSH rig's node)."""
from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path

from .playbook import REPO


def in_process(name: str) -> str:
    """What -vvv shows when a module's action plugin does its work in Ansible's own process (the
    local connection), where a module run shows "Using module file"."""
    return f"{name}: the local connection, run in Ansible's own process"


# One run of label_studio_tasks in `-vvv` output, either way (a module run names its file, with
# pipelining too).
IMPORT_RUN = r"Using module file \S*/label_studio_tasks\.py|" + in_process("label_studio_tasks")


def module_command(name: str, args: dict, check: bool = False, diff: bool = False,
                   verbose: bool = False, host: str = "localhost", inventory: Path | None = None) -> list[str]:
    """The ansible command; without an inventory, localhost over the local connection."""
    # No -a for a module without arguments: ansible reads "-a '{}'" as raw params and refuses them.
    where = ["-i", str(inventory)] if inventory else ["-c", "local"]
    cmd = ["ansible", host, *where, "-m", name] + (["-a", json.dumps(args)] if args else [])
    return cmd + (["--check"] if check else []) + (["--diff"] if diff else []) + (["-vvv"] if verbose else [])


def module_env(tree_dir: str | None = None) -> dict:
    env = dict(os.environ, ANSIBLE_NOCOLOR="1")
    if tree_dir:
        # ansible-core's own `tree` callback writes each host's result as JSON.
        env.update(ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_CALLBACKS_ENABLED="ansible.builtin.tree",
                   ANSIBLE_CALLBACK_TREE_DIR=tree_dir)
    return env


def run_module(name: str, args: dict, check: bool = False, diff: bool = False, env: dict | None = None,
               verbose: bool = False, host: str = "localhost", inventory: Path | None = None) -> dict:
    """The module's result dict (with 'failed' and 'msg' on failure). Secrets go in files, not args.

    env: more environment for ansible (ANSIBLE_ACTION_PLUGINS=an empty dir runs a module that has an
    action plugin as a module); verbose: -vvv (in "printed" and "stderr"); host and inventory: where
    (module_command)."""
    with tempfile.TemporaryDirectory() as tree:
        proc = subprocess.run(module_command(name, args, check, diff, verbose, host, inventory), cwd=REPO,
                              env=dict(module_env(tree), **(env or {})),
                              capture_output=True, text=True, timeout=900)
        result_file = Path(tree) / host
        if not result_file.exists():
            raise AssertionError(f"no result from ansible: {proc.stdout[-2000:]} {proc.stderr[-2000:]}")
        result = json.loads(result_file.read_text())
    result["rc"] = proc.returncode
    # What the user sees, including the printed --diff (the tree callback drops "diff").
    result["printed"] = proc.stdout
    result["stderr"] = proc.stderr
    result["failed"] = proc.returncode != 0  # the tree callback drops the "failed" flag
    return result
