"""label_studio_account gives the playbooks the account facts they read (user_dir above all:
every default path is under it) with the values the setup module's user subset gives: through
its action plugin's shell command, and through the module the plugin falls back to when that
command's answer cannot be read."""
from __future__ import annotations

import json
import os
import pwd
import subprocess

from support.modules import module_env, run_module
from support.paths import REPO

NAMES = ["user_id", "user_uid", "user_gid", "user_dir", "user_shell"]


def setup_facts():
    setup = run_module("ansible.builtin.setup", {"gather_subset": ["!all", "!min", "user"]})
    return {name: setup["ansible_facts"]["ansible_" + name] for name in NAMES}


def test_the_account_facts_are_those_of_the_setup_module():
    ours = run_module("label_studio_account", {})
    assert not ours["failed"] and not ours["changed"]
    assert {name: ours["ansible_facts"][name] for name in NAMES} == setup_facts()


def test_an_unreadable_getent_answer_falls_back_to_the_module(tmp_path, monkeypatch):
    # A getent that answers garbage (as a broken or foreign one could) comes first on PATH: the
    # plugin must not turn its answer into facts, and the module's pwd lookup gives the right ones.
    fake = tmp_path / "getent"
    fake.write_text("#!/bin/sh\necho 'not a passwd line'\n")
    fake.chmod(0o755)
    assert subprocess.run(["sh", "-c", 'getent passwd "$(id -u)"'], capture_output=True, text=True,
                          env=dict(os.environ, PATH=f"{tmp_path}:{os.environ['PATH']}")).stdout \
        == "not a passwd line\n"
    expected = setup_facts()
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    ours = run_module("label_studio_account", {})
    assert not ours["failed"] and not ours["changed"]
    assert {name: ours["ansible_facts"][name] for name in NAMES} == expected


def test_options_are_refused():
    ours = run_module("label_studio_account", {"user": "root"})
    assert ours["failed"] and "takes no options" in ours["msg"]


def test_over_ssh_the_facts_are_the_node_accounts(ssh_node, tmp_path):
    # The cluster node's unprivileged account, through the real sshd: its own passwd entry, not
    # the controller's.
    tree = tmp_path / "tree"
    proc = subprocess.run(["ansible", "node1", "-i", str(ssh_node.inventory()), "-m", "label_studio_account"],
                          cwd=REPO, capture_output=True, text=True, timeout=300,
                          env=module_env(str(tree)))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    facts = json.loads((tree / "node1").read_text())["ansible_facts"]
    entry = pwd.getpwnam(ssh_node.user)
    assert {name: facts[name] for name in NAMES} == dict(
        user_id=entry.pw_name, user_uid=entry.pw_uid, user_gid=entry.pw_gid,
        user_dir=entry.pw_dir, user_shell=entry.pw_shell)
