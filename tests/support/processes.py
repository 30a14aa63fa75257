"""What processes on this machine are running, read from /proc (for leak and liveness checks)."""
from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from pathlib import Path


def cmdlines() -> dict[int, bytes]:
    """pid -> raw argv (NUL-separated) of every process that is readable right now."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                found[int(entry.name)] = (entry / "cmdline").read_bytes()
            except OSError:  # the process ended meanwhile
                pass
    return found


def descendants(pid: int) -> list[int]:
    """Every living process below pid (children first found, then theirs), e.g. Ansible's workers,
    which run in sessions of their own, and the modules they start."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                # The command name (2nd field) is in parentheses and may hold spaces: split after it.
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):  # the process ended meanwhile
                pass
    found, frontier = [], [pid]
    while frontier:
        below = [child for child, parent in parents.items() if parent in frontier]
        found.extend(below)
        frontier = below
    return found


@contextmanager
def watch_cmdlines(interval: float = 0.05):
    """Record every distinct argv seen while the block runs, e.g. to prove a secret never shows."""
    seen: set[bytes] = set()
    stop = threading.Event()

    def watch():
        while not stop.is_set():
            seen.update(cmdlines().values())
            time.sleep(interval)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        yield seen
    finally:
        stop.set()
        watcher.join()
