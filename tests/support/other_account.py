"""Another unix account on the test machine, as any other user of a shared cluster node.

The tests run as root; the account is an unprivileged system account made once with `useradd`
(no home, no login shell). Processes run as it through `runuser`, which needs no password.
"""
from __future__ import annotations

import pwd
import subprocess

ACCOUNT = "ls-study-other"


def other_account() -> pwd.struct_passwd:
    """The account (created on first use)."""
    try:
        return pwd.getpwnam(ACCOUNT)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                        ACCOUNT], check=True, capture_output=True)
        return pwd.getpwnam(ACCOUNT)


def as_other_account(argv: list[str]) -> list[str]:
    """argv run as the other account (its own uid, no privileges, no environment of ours)."""
    other_account()
    return ["runuser", "-u", ACCOUNT, "--", *argv]
