"""label_studio_account gives the playbooks the account facts they read (user_dir above all:
every default path is under it) with the values the setup module's user subset gives."""
from __future__ import annotations

from support.modules import run_module

NAMES = ["user_id", "user_uid", "user_gid", "user_dir", "user_shell"]


def test_the_account_facts_are_those_of_the_setup_module():
    ours = run_module("label_studio_account", {})
    setup = run_module("ansible.builtin.setup", {"gather_subset": ["!all", "!min", "user"]})
    assert not ours["failed"] and not ours["changed"]
    assert {name: ours["ansible_facts"][name] for name in NAMES} == {
        name: setup["ansible_facts"]["ansible_" + name] for name in NAMES}
