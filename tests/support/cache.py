"""Where the tests and benchmarks keep the Label Studio environments they install once per machine.

The suite runs as root and executes the Python in that dir, so whoever can write to it (or to any
dir above it, or replace it first) runs code as root. The dir is therefore per user, and before use
every component of its path must be owned by root or the current user and not writable by group or
others; otherwise the suite stops with a message naming the component. It is not private (0755):
the environments are built on Debian's /usr/bin/python3 so the SSH rig's unprivileged node account
(tests/support/sshnode.py) can run them too, which needs read and search access only.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path


class UnsafeCacheDir(RuntimeError):
    """The cache dir, or a dir above it, could be changed by another account."""


def default_cache_dir(uid: int | None = None) -> Path:
    """root: /var/cache/... (root-owned all the way up, readable by the node account). Others:
    their own ~/.cache (XDG_CACHE_HOME). Both never a shared /var/tmp name another account could
    create first."""
    uid = os.geteuid() if uid is None else uid
    if uid == 0:
        return Path("/var/cache/label-studio-study-tests")
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "label-studio-study-tests"


def unsafe_reason(path: Path, uid: int) -> str | None:
    """Why `path` (which exists) is not safe for `uid` to run code from, or None if it is.

    Checks the path as given and as resolved, each component from the dir itself up to /, with
    lstat: a symlink on the way is trusted only if its owner is, and its target is checked too."""
    seen = set()
    for start in (Path(os.path.abspath(path)), Path(os.path.realpath(path))):
        for component in (start, *start.parents):
            if component in seen:
                continue
            seen.add(component)
            info = os.lstat(component)
            if info.st_uid not in (0, uid):
                return (f"{component} is owned by uid {info.st_uid}, not by root or uid {uid}: "
                        "that account could plant code the tests would run")
            if not stat.S_ISLNK(info.st_mode) and info.st_mode & 0o022:
                return (f"{component} has mode {stat.S_IMODE(info.st_mode):04o}: writable by "
                        "group or others, who could plant code the tests would run (0755 at most)")
    return None


def cache_dir() -> Path:
    """The checked cache dir (LS_STUDY_TEST_CACHE or the per-user default), created 0755 if missing.

    Raises UnsafeCacheDir naming the offending component; nothing in it is used then."""
    uid = os.geteuid()
    override = os.environ.get("LS_STUDY_TEST_CACHE")
    path = Path(os.path.abspath(override or default_cache_dir(uid)))
    # The nearest existing dir is checked before anything is created in it, the dir itself after.
    existing = next(p for p in (path, *path.parents) if p.exists())
    for candidate in (existing, path):
        if candidate is path:
            path.mkdir(mode=0o755, parents=True, exist_ok=True)
        reason = unsafe_reason(candidate, uid)
        if reason:
            source = "LS_STUDY_TEST_CACHE" if override else "the default"
            raise UnsafeCacheDir(f"refusing the test/bench cache {path} ({source}): {reason}. "
                                 "Fix its owner/mode or point LS_STUDY_TEST_CACHE at a dir only "
                                 "root or you can write.")
    return path
