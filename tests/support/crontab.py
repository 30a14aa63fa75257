"""Root's crontab, shared by every local instance of a test run (and by test runs side by side):
the tests' own edits of it take the product's crontab lock, as every deploy's do
(module_utils/label_studio_lock.py: crontab_lock), and the session's cleanup of its instances'
lines."""
from __future__ import annotations

import subprocess
from typing import Callable

from .paths import use_project_module_utils

use_project_module_utils()

from ansible.module_utils.label_studio_lock import crontab_lock  # noqa: E402


def crontab_listing() -> str:
    """This account's crontab ('' without one)."""
    listed = subprocess.run(["crontab", "-l"], capture_output=True, text=True)
    if listed.returncode != 0 and not listed.stderr.startswith("no crontab for "):
        raise RuntimeError(f"crontab -l failed: {listed.stderr.strip()}")
    return listed.stdout


def edit_crontab(change: Callable[[str], str]) -> str:
    """Rewrite this account's crontab as change(text) says, holding the crontab lock that
    deploy.yml's edits take too (none of theirs is lost meanwhile); the new text."""
    with crontab_lock():
        before = crontab_listing()
        after = change(before)
        if after != before:
            subprocess.run(["crontab", "-"], input=after, capture_output=True, text=True, check=True)
    return after


def instance_cron_lines(names: set[str], crontab: str) -> dict[str, str]:
    """{marker: job line} of the lines deploy.yml's cron tasks wrote for these instances."""
    lines = crontab.splitlines()
    return {marker: line for marker, line in zip(lines, lines[1:])
            if marker.startswith("#Ansible: label-studio ") and marker.split()[-1] in names}


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
