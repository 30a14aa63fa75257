"""Root's crontab, shared by every local instance of a test run: edits taken one at a time while
instances deploy at once (crontab_lease.py), and the session's cleanup of its instances' lines."""
from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

LEASED_CRONTAB = Path(__file__).resolve().parent / "crontab_lease.py"
_LEASE_ENV: dict = {}


def leased_crontab_env() -> dict:
    """Environment for local playbook runs: `crontab` is crontab_lease.py (the real crontab, one
    Ansible edit at a time), one lease for the whole test process."""
    if not _LEASE_ENV:
        bin_dir = Path(tempfile.mkdtemp(prefix="ls-test-crontab-"))
        (bin_dir / "crontab").symlink_to(LEASED_CRONTAB)
        atexit.register(shutil.rmtree, bin_dir, ignore_errors=True)
        _LEASE_ENV.update(PATH=f"{bin_dir}:{os.environ['PATH']}", LS_TEST_CRONTAB_LEASE=str(bin_dir / "lease"))
    return dict(_LEASE_ENV)


def crontab_without(names: set[str], crontab: str) -> str:
    """The crontab without the lines deploy.yml's cron tasks wrote for these instances: each
    `#Ansible: label-studio [backup ]NAME` marker and the job line after it."""
    lines, out, skip = crontab.splitlines(keepends=True), [], False
    for line in lines:
        if skip:
            skip = False
            continue
        marker = line.strip()
        if marker.startswith("#Ansible: label-studio ") and marker.split()[-1] in names:
            skip = True
            continue
        out.append(line)
    return "".join(out)
