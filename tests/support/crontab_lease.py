#!/usr/bin/python3
"""`crontab` for the tests' local playbook runs: the real /usr/bin/crontab, one Ansible edit at a time.

Ansible's cron module reads the account's whole crontab (`crontab -l`), edits it and writes it
back (`crontab FILE`) without a lock. Local instances deployed at once (conftest.py's background
deploy, background.py's at_once) share root's crontab: two edits interleaving would lose a line.
So every local playbook run of the tests finds this script first on its PATH as `crontab`
(crontab.py: leased_crontab_env). A caller that reads takes a lease and keeps it until it
writes or ends; another caller waits meanwhile. The caller is the nearest ancestor that is not a
shell: the module's Python process (the module runs crontab through /bin/sh). Where that is an
SSH connection (a read-only shell command run over SSH, such as the scheduler's probe), the
caller is the command the connection runs: the connection itself lives on for later commands.

Environment: LS_TEST_CRONTAB_LEASE, the lease file (without it, no lease is taken).
"""
from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import time

REAL = os.environ.get("LS_TEST_CRONTAB_REAL", "/usr/bin/crontab")  # another one: unit tests
SHELLS = {"sh", "dash", "bash"}
CONNECTIONS = {"sshd", "sshd-session"}  # OpenSSH 9.8 names a connection's process sshd-session
LIMIT = 600  # seconds; only keeps a stuck holder from hanging the suite (an edit takes < 1 s)


def comm(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm") as handle:
            return handle.read().strip()
    except OSError:
        return ""


def parent(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return int(handle.read().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return 0


def caller() -> int:
    pid, below = os.getppid(), 0
    while pid > 1 and comm(pid) in SHELLS:
        pid, below = parent(pid), pid
    if below and comm(pid) in CONNECTIONS:
        return below  # the outermost shell the connection runs: it ends with the command
    return pid


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def take(lease: str, owner: int) -> None:
    deadline = time.monotonic() + LIMIT
    while True:
        with open(lease, "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            handle.seek(0)
            holder = int(handle.read().strip() or 0)
            if holder in (0, owner) or not alive(holder):
                handle.seek(0)
                handle.truncate()
                handle.write(str(owner))
                return
        if time.monotonic() > deadline:
            sys.exit(f"crontab (test rig): pid {holder} has held the crontab lease for {LIMIT} s")
        time.sleep(0.02)


def give_back(lease: str, owner: int) -> None:
    with open(lease, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        if int(handle.read().strip() or 0) == owner:
            handle.seek(0)
            handle.truncate()


def main(args: list[str]) -> int:
    lease = os.environ.get("LS_TEST_CRONTAB_LEASE")
    owner = caller()
    if not lease:
        return subprocess.call([REAL, *args])
    take(lease, owner)
    try:
        return subprocess.call([REAL, *args])
    finally:
        if "-l" not in args:  # a write (or -r) ends the caller's edit
            give_back(lease, owner)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
