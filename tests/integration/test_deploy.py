"""Deploy on this machine: private, supervised, idempotent (issue 2)."""
from __future__ import annotations

import os
import re
import socket
import stat
import subprocess
import time
from pathlib import Path

import pytest

from support.files import assert_untouched, files_state
from support.net import listening_addresses
from support.playbook import probe_guarded_tasks, unfolded
from support.processes import cmdlines, watch_cmdlines
from support.web import login, signup

ADMIN_PASSWORD = "Vault-Supplied-Pw-8c1f"  # as if it came from Ansible Vault


def label_studio_pids(inst) -> list[int]:
    """Pids of processes whose command line runs this instance's label-studio start."""
    pids = []
    for pid, raw in cmdlines().items():
        cmd = raw.split(b"\0")
        if any(part.endswith(b"label-studio") for part in cmd[:2]) and b"start" in cmd \
                and str(inst.port).encode() in cmd:
            pids.append(pid)
    return pids


@pytest.fixture(scope="module")
def deployed(make_instance):
    """A fresh instance, deployed while every process's argv is watched for the password; at
    -vvv, where Ansible shows every task's arguments and result (a missing no_log would show)."""
    inst = make_instance(label_studio_admin_password=ADMIN_PASSWORD)
    with watch_cmdlines() as seen:
        run = inst.deploy(extra_args=["-vvv"])
    run.assert_ok()
    inst.first_run = run
    inst.argv_hits = [cmd for cmd in seen if ADMIN_PASSWORD.encode() in cmd]
    return inst


def test_health_answers(deployed):
    assert deployed.health()


def test_listens_on_loopback_only(deployed):
    assert listening_addresses(deployed.port) == {"127.0.0.1"}


def test_signup_needs_the_invite_link(deployed):
    assert signup(deployed.url, "stranger@example.org", "Str4nger-pw!") == 403
    invite = deployed.api("GET", "/api/invite")["token"]
    assert signup(deployed.url, "invited@example.org", "Inv1ted-pw!", invite) == 200
    # Label Studio answers an invalid signup form with 200 too: the account must log in.
    assert login(deployed.url, "invited@example.org", "Inv1ted-pw!") == "invited@example.org"
    assert login(deployed.url, "stranger@example.org", "Str4nger-pw!") is None


def test_private_modes(deployed):
    """Every dir under the data, state and credentials dirs is 0700 and every file is the
    account's alone. Except what Label Studio's file storage writes under media/ (uploads,
    export snapshots): Django gives those 0644 whatever the umask (FILE_UPLOAD_PERMISSIONS),
    so they are private only through the 0700 dirs above them, which this checks."""
    media = deployed.data_dir / "media"
    checked = []
    for root in (deployed.data_dir, deployed.state_dir, deployed.credentials_dir):
        for path in [root, *root.rglob("*")]:
            mode = stat.S_IMODE(path.lstat().st_mode)
            if path.is_dir() and not path.is_symlink():
                assert mode == 0o700, (path, oct(mode))
            elif path.is_file() and not path.is_symlink() and media not in path.parents:
                assert mode & 0o077 == 0, (path, oct(mode))
            checked.append(path)
    for expected in (deployed.data_dir / "label_studio.sqlite3", deployed.data_dir / "logs",
                     deployed.state_dir / "service.env", deployed.credentials_dir / "api_token"):
        assert expected in checked, expected


def test_service_environment_is_clean_and_quiet(deployed):
    (pid,) = label_studio_pids(deployed)
    env = dict(item.split(b"=", 1) for item in
               Path(f"/proc/{pid}/environ").read_bytes().split(b"\0") if b"=" in item)
    for name, value in {b"SENTRY_DSN": b"", b"FRONTEND_SENTRY_DSN": b"",
                        b"COLLECT_ANALYTICS": b"false", b"LATEST_VERSION_CHECK": b"false",
                        b"LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK": b"true",
                        b"LABEL_STUDIO_BASE_DATA_DIR": str(deployed.data_dir).encode()}.items():
        assert env.get(name) == value, name
    assert env.get(b"LABEL_STUDIO_collect_analytics") == b"false"  # the name 1.6.x reads
    for unprefixed in (b"HOST", b"PORT", b"DEBUG", b"USERNAME", b"PASSWORD"):
        assert unprefixed not in env


def wait_for_new_healthy_pid(inst, old_pid: int, limit: float = 180) -> int:
    """The pid of the instance's Label Studio once a new one (not old_pid) answers /health.

    Waits on that event; the limit is only there so a broken restart fails instead of hanging
    (a warm restart takes ~4 s, far more on a loaded machine)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        pids = label_studio_pids(inst)
        if len(pids) == 1 and pids[0] != old_pid and inst.health():
            return pids[0]
        time.sleep(0.2)
    raise AssertionError(f"no new healthy Label Studio (was pid {old_pid}, now {label_studio_pids(inst)}, "
                         f"health {inst.health()}) within {limit} s")


def test_restarted_service_does_not_carry_the_admin_password(deployed):
    (before,) = label_studio_pids(deployed)
    restart = deployed.supervisorctl("restart", "label-studio")
    assert restart.returncode == 0, restart.stdout + restart.stderr
    pid = wait_for_new_healthy_pid(deployed, before)
    environ = Path(f"/proc/{pid}/environ").read_bytes()
    assert ADMIN_PASSWORD.encode() not in environ and b"LABEL_STUDIO_PASSWORD" not in environ
    assert deployed.token.encode() not in environ


def test_admin_password_never_leaks(deployed):
    assert deployed.argv_hits == [], "admin password seen in a process's argv"
    assert ADMIN_PASSWORD not in unfolded(deployed.first_run.output)
    for log in (deployed.data_dir / "logs").iterdir():
        assert ADMIN_PASSWORD.encode() not in log.read_bytes(), log
    # The admin logs in through the login form with the password deploy was given: it really is
    # the password in use (the API token alone would not notice an ignored password).
    assert login(deployed.url, "admin@label-studio.local", ADMIN_PASSWORD) == "admin@label-studio.local"
    assert login(deployed.url, "admin@label-studio.local", ADMIN_PASSWORD + "-wrong") is None
    # ... and the login did not put it in the logs either.
    for log in (deployed.data_dir / "logs").iterdir():
        assert ADMIN_PASSWORD.encode() not in log.read_bytes(), log


def test_second_run_and_check_mode_change_nothing(deployed):
    before = files_state(deployed.credentials_dir, deployed.state_dir)
    rerun = deployed.deploy().assert_unchanged()
    preview = deployed.deploy(check=True, diff=True, extra_args=["-vvv"]).assert_unchanged()
    # The diff of the secret files and -vvv's arguments and results show no secret either.
    for secret in (ADMIN_PASSWORD, deployed.token):
        assert secret not in unfolded(preview.output) and secret not in unfolded(rerun.output)
    # Not only changed=0: no credential and no file of the service written again either.
    assert_untouched(before, deployed.credentials_dir, deployed.state_dir)
    # Unchanged is not enough: a write task the probe should have found as wanted still costs two
    # module runs. None of them runs (a digest of the wrong text would make one run every time).
    guarded = probe_guarded_tasks()
    assert len(guarded) >= 6, guarded
    assert [task for task in guarded if rerun.ran(task)] == []


def test_check_mode_before_the_first_deploy_writes_nothing(make_instance):
    # A user's first command may well be --check --diff: it must succeed and leave no trace,
    # not even generated secrets on the controller.
    fresh = make_instance()
    # The backup's signing key in this instance's own dir: the default (~/.label-studio-study)
    # was made by earlier deploys, so a key generated in check mode would go unseen there.
    key = fresh.data_dir.parent / "backup_key"
    fresh.extra["label_studio_backup_key_file"] = str(key)
    run = fresh.deploy(check=True, diff=True)
    run.assert_ok()
    assert run.changed > 0 and "the first real deploy creates 6" in run.output
    for path in (fresh.data_dir, fresh.state_dir, fresh.credentials_dir, key):
        assert not path.exists(), path
    # Nor anything else beside the data dir (the backups dir, transfer files).
    assert list(fresh.data_dir.parent.iterdir()) == []
    assert fresh.name not in subprocess.run(["crontab", "-l"], capture_output=True, text=True).stdout
    assert not fresh.health()


def test_kill_9_is_healed_by_supervisor(deployed):
    (pid,) = label_studio_pids(deployed)
    os.kill(pid, 9)
    # The event, not a time: a new process (supervisor restarted it) that answers /health.
    assert wait_for_new_healthy_pid(deployed, pid) != pid
    # Healthy again can come before supervisor's startsecs has passed (still STARTING).
    assert re.search(r"RUNNING|STARTING", deployed.supervisorctl("status", "label-studio").stdout)


def test_stop_and_start_again(deployed):
    run = deployed.deploy({"label_studio_state": "stopped"}).assert_ok()
    assert run.changed > 0
    assert not deployed.health() and listening_addresses(deployed.port) == set()
    assert deployed.name not in subprocess.run(["crontab", "-l"], capture_output=True, text=True).stdout
    assert not label_studio_pids(deployed)
    deployed.deploy({"label_studio_state": "stopped"}).assert_unchanged()
    deployed.deploy().assert_ok()
    assert deployed.health()
    cron = subprocess.run(["crontab", "-l"], capture_output=True, text=True).stdout
    assert f"@reboot {deployed.state_dir}/start-supervisord" in cron


def test_busy_port_is_refused(make_instance):
    inst = make_instance()
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", inst.port))
        squatter.listen()
        run = inst.deploy()
    assert run.returncode != 0
    assert f"Port {inst.port} on 127.0.0.1 is already in use" in run.output
    assert not inst.health()


def test_a_service_that_cannot_start_fails_the_deploy_at_once(deployed):
    """Label Studio exits at every start (here a database setting it cannot use): supervisord gives
    up (FATAL), and the deploy says so, with the last line of Label Studio's log, instead of
    polling /health until label_studio_start_timeout has passed (the message would then say
    'not healthy within')."""
    run = deployed.deploy({"label_studio_extra_env": {"DJANGO_DB": "no-such-database"},
                           "label_studio_start_timeout": 120})
    assert run.returncode != 0
    out = unfolded(run.output)
    log = deployed.data_dir / "logs" / "label-studio.log"
    assert f"Label Studio at http://127.0.0.1:{deployed.port} did not start: " in out, out[-3000:]
    # FATAL when each start exits within supervisord's startsecs; on a slow machine the exits may
    # come later, and then the restarts end the wait.
    assert ("supervisord gave up starting it (label-studio FATAL" in out
            or "times and supervisord keeps restarting it (label-studio" in out), out[-3000:]
    last = [line.strip() for line in log.read_text().splitlines() if line.strip()][-1][:500]
    assert f"the last line of {log}: {' '.join(last.split())}" in out
    assert "was not healthy within" not in out
    deployed.deploy().assert_ok()  # the plain configuration again
    assert deployed.health()


def test_config_change_restarts_through_handler(deployed):
    (before,) = label_studio_pids(deployed)
    run = deployed.deploy({"label_studio_extra_env": {"LABEL_STUDIO_EXAMPLE_SETTING": "1"}}).assert_ok()
    assert "Reload supervisord with the new configuration" in run.output
    assert deployed.health()
    (after,) = label_studio_pids(deployed)
    assert after != before
    deployed.deploy().assert_ok()  # back to the plain configuration


def test_changes_made_by_hand_are_put_back(deployed):
    # Deploy writes only the files and dirs its probe finds different (issue 16): each of these
    # must be found different and put back, and nothing else rewritten.
    starter = deployed.state_dir / "start-supervisord"
    key = deployed.state_dir / "backup.key"
    logs = deployed.data_dir / "logs"
    key_text = key.read_text()
    starter.chmod(0o755)
    key.write_text("changed by hand\n")
    logs.chmod(0o755)
    run = deployed.deploy().assert_ok()
    assert stat.S_IMODE(starter.stat().st_mode) == 0o700
    assert key.read_text() == key_text and stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(logs.stat().st_mode) == 0o700
    assert run.changed == 3, run.output
    deployed.deploy().assert_unchanged()
