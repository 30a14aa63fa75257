"""Scheduled backups where the account may not use cron (issue 15): a crontab that refuses the
account as /etc/cron.allow does, and no crontab at all. Real deploys, the instance's real
supervisord running the real backup script on a one-minute schedule."""
from __future__ import annotations

import os
import subprocess
import time

import pytest

from support.files import assert_untouched, files_state

pytestmark = pytest.mark.slow

# What Debian's crontab prints for an account that /etc/cron.allow leaves out.
DENIED_CRONTAB = """#!/bin/sh
echo "You ($(id -un)) are not allowed to use this program (crontab)" >&2
echo "See crontab(1) for more information" >&2
exit 1
"""

# ansible-playbook in a mount namespace where /usr/bin/crontab is hidden: a node without cron.
# (supervisord started from there stays in that namespace, which is what such a node is.)
NO_CRONTAB = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
              'mount --bind /dev/null "$(command -v crontab)" && exec "$@"', "no-crontab"]


@pytest.fixture(scope="module")
def denied(tmp_path_factory) -> dict:
    bin_dir = tmp_path_factory.mktemp("denied-cron")
    (bin_dir / "crontab").write_text(DENIED_CRONTAB)
    (bin_dir / "crontab").chmod(0o755)
    return {"PATH": f"{bin_dir}:{os.environ['PATH']}"}


def crontab_mentions(inst) -> bool:
    listing = subprocess.run(["crontab", "-l"], capture_output=True, text=True).stdout
    return inst.name in listing


def flat(output: str) -> str:
    """Playbook output with the YAML callback's line folding and quote doubling undone."""
    return " ".join(output.replace("''", "'").split())


def nothing_written(inst) -> bool:
    return not (inst.data_dir.exists() or inst.state_dir.exists() or inst.credentials_dir.exists())


def test_cron_asked_for_but_refused_fails_before_any_change(make_instance, denied):
    inst = make_instance(label_studio_scheduler="cron")
    run = inst.deploy(env=denied)
    assert run.returncode != 0
    assert "crontab refuses this account: You (" in flat(run.output)
    assert "not allowed to use this program" in flat(run.output)
    assert "Nothing was changed" in flat(run.output)
    assert "Failed to find required executable" not in run.output
    assert nothing_written(inst)


def test_cron_asked_for_but_missing_fails_before_any_change(make_instance):
    inst = make_instance(label_studio_scheduler="cron")
    run = inst.deploy(wrapper=NO_CRONTAB)
    assert run.returncode != 0
    assert "there is no crontab command on the node's PATH" in flat(run.output)
    assert "Failed to find required executable" not in run.output
    assert nothing_written(inst)


@pytest.fixture(scope="module")
def uncronned(make_instance, denied):
    """Deployed with auto where crontab refuses the account; backups every minute."""
    inst = make_instance(label_studio_backup_schedule={"minute": "*", "hour": "*"})
    inst.first_run = inst.deploy(env=denied)
    yield inst
    inst.deploy({"label_studio_state": "stopped"}, env=denied).assert_ok()


def test_auto_chooses_supervisor_and_says_so(uncronned):
    run = uncronned.first_run.assert_ok()
    assert "the instance's supervisord runs the scheduled backups" in flat(run.output)
    assert not crontab_mentions(uncronned)
    status = uncronned.supervisorctl("status", "backup-scheduler")
    assert status.returncode == 0 and "RUNNING" in status.stdout, status.stdout


def test_supervisor_takes_the_scheduled_backup(uncronned):
    backups = uncronned.data_dir.parent / "backups"
    # A deadline wait on the event, not a timing claim: the schedule fires at the next minute
    # and a backup of a small study then takes seconds; 180 s leaves room for a loaded machine.
    deadline = time.monotonic() + 180
    archives = []
    while time.monotonic() < deadline and not archives:
        archives = sorted(backups.glob(f"{uncronned.name}-*.tar.gz"))
        time.sleep(2)
    assert archives, "the supervisor scheduler took no backup"
    log = (backups / f"{uncronned.name}-backup.log").read_text()
    assert archives[0].name in log


def test_no_crontab_at_all_changes_nothing_on_a_rerun(uncronned):
    # auto on a node without crontab chooses supervisor too: the same deployment, changed=0,
    # no file of the service or the controller rewritten, the scheduler not restarted.
    files = files_state(uncronned.state_dir, uncronned.credentials_dir)
    scheduler = uncronned.supervisorctl("pid", "backup-scheduler").stdout.strip()
    assert scheduler.isdigit(), scheduler
    rerun = uncronned.deploy(wrapper=NO_CRONTAB).assert_unchanged()
    assert_untouched(files, uncronned.state_dir, uncronned.credentials_dir)
    assert uncronned.supervisorctl("pid", "backup-scheduler").stdout.strip() == scheduler
    # The supervisor scheduler's files were found as wanted by the probe: not even rewritten
    # unchanged (their digest must be of the very text the copy writes).
    for task in ("Write the schedule for supervisord's scheduler",
                 "Declare the scheduler program to supervisord"):
        assert not rerun.ran("label_studio_backup : " + task), task
