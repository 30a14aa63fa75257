"""label_studio_crontab against the real crontab command, on a crontab of its own: each run is in a
mount namespace where a fresh spool dir lies over /var/spool/cron/crontabs, so root's crontab
there starts empty and the machine's (which the suite's instances share) is never touched.
(Concurrent edits under the lock: test_backup.py's two-host play.)"""
from __future__ import annotations

import subprocess

import pytest

from support.playbook import run_playbook

PLAY = """- name: One crontab line
  hosts: localhost
  gather_facts: false
  tasks:
    - name: The line
      {module}:
        name: "{{{{ name }}}}"
        job: "{{{{ job | default(omit) }}}}"
        special_time: "{{{{ special_time | default(omit) }}}}"
        minute: "{{{{ minute | default(omit) }}}}"
        state: "{{{{ state | default('present') }}}}"
"""


@pytest.fixture
def spool(tmp_path):
    """A private crontab spool, as Debian makes /var/spool/cron/crontabs (root:crontab, 1730)."""
    path = tmp_path / "crontabs"
    path.mkdir()
    subprocess.run(["chgrp", "crontab", str(path)], check=True)
    path.chmod(0o1730)
    return path


def in_spool(spool) -> list[str]:
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c",
            'mount --bind "$0" /var/spool/cron/crontabs && exec "$@"', str(spool)]


def crontab_there(spool) -> str:
    listed = subprocess.run([*in_spool(spool), "crontab", "-l"], capture_output=True, text=True)
    if listed.returncode != 0:
        assert listed.stderr.startswith("no crontab for "), listed.stderr
        return None
    return listed.stdout


def line(spool, tmp_path, module="label_studio_crontab", check=False, **values):
    play = tmp_path / f"{module}.yml"
    play.write_text(PLAY.format(module=module))
    return run_playbook(str(play), values, check=check, diff=check, wrapper=in_spool(spool))


def test_lines_are_added_kept_and_removed_down_to_no_crontab(spool, tmp_path):
    line(spool, tmp_path, name="first", special_time="reboot", job="/srv/a/start").assert_ok()
    assert crontab_there(spool) == "#Ansible: first\n@reboot /srv/a/start\n"
    line(spool, tmp_path, name="first", special_time="reboot", job="/srv/a/start").assert_unchanged()

    # --check --diff: the change is shown, nothing is written.
    preview = line(spool, tmp_path, check=True, name="second", minute="5", job="/srv/b/backup").assert_ok()
    assert preview.changed == 1 and "+5 * * * * /srv/b/backup" in preview.output
    assert crontab_there(spool) == "#Ansible: first\n@reboot /srv/a/start\n"

    line(spool, tmp_path, name="second", minute="5", job="/srv/b/backup").assert_ok()
    line(spool, tmp_path, name="first", special_time="reboot", job="/srv/a2/start").assert_ok()
    assert crontab_there(spool) == ("#Ansible: first\n@reboot /srv/a2/start\n"
                                    "#Ansible: second\n5 * * * * /srv/b/backup\n")

    line(spool, tmp_path, name="first", state="absent").assert_ok()
    assert crontab_there(spool) == "#Ansible: second\n5 * * * * /srv/b/backup\n"
    # The last line goes: no crontab is left (not an empty one read from the module's stdin).
    line(spool, tmp_path, name="second", state="absent").assert_ok()
    assert crontab_there(spool) is None
    line(spool, tmp_path, name="second", state="absent").assert_unchanged()


def test_lines_that_ansibles_cron_module_wrote_are_found_and_kept(spool, tmp_path):
    # What an earlier deploy left with ansible.builtin.cron, beside the account's own line.
    subprocess.run([*in_spool(spool), "crontab", "-"], input="0 3 * * * /usr/local/bin/nightly\n",
                   text=True, check=True)
    line(spool, tmp_path, module="ansible.builtin.cron", name="backup x", minute="5",
         job="/srv/x/backup --dir /b\\%daily").assert_ok()
    line(spool, tmp_path, module="ansible.builtin.cron", name="x", special_time="reboot",
         job="/srv/x/start").assert_ok()
    written = crontab_there(spool)
    line(spool, tmp_path, name="backup x", minute="5", job="/srv/x/backup --dir /b\\%daily").assert_unchanged()
    line(spool, tmp_path, name="x", special_time="reboot", job="/srv/x/start").assert_unchanged()
    assert crontab_there(spool) == written
    line(spool, tmp_path, name="x", state="absent").assert_ok()
    assert crontab_there(spool) == ("0 3 * * * /usr/local/bin/nightly\n"
                                    "#Ansible: backup x\n5 * * * * /srv/x/backup --dir /b\\%daily\n")
