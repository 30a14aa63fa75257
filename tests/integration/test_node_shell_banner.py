"""A node account whose shell start-up prints something (a ~/.bashrc that echoes a banner, as
some clusters' do) still deploys with no change. The roles' read-only probes are plain shell
commands (ansible.builtin.raw), and their output then starts with that banner: the roles must
read only the lines the probe itself printed."""
from __future__ import annotations

from support.playbook import probe_guarded_tasks


def test_a_banner_from_the_node_shell_changes_nothing(node_study, ssh_node):
    bashrc = ssh_node.home / ".bashrc"
    before = bashrc.read_text()
    bashrc.write_text('echo "Welcome to the cluster: /scratch is 97% full {"\n' + before)
    try:
        probe = ssh_node.run("true")
        assert "Welcome to the cluster" in probe.stdout, "the banner does not show: the test proves nothing"
        run = node_study.deploy().assert_unchanged()
        # Unchanged is not enough: a probe whose answer was misread leaves every write task it
        # guards to run (and find nothing to write). None of them runs.
        guarded = probe_guarded_tasks()
        assert len(guarded) >= 6, guarded
        assert [task for task in guarded if run.ran(task)] == []
    finally:
        bashrc.write_text(before)
