"""The Python 3.9 interpreter tests/integration/test_versions.py needs (Label Studio 1.6.0, the
original study's version, does not install on newer Pythons).

Looked for in order: $LS_STUDY_PYTHON39, pyenv builds (~/.pyenv/versions/3.9.*), uv's managed
interpreters. `python3 tests/support/old_python.py --install` (tests/run-all) also tries
`uv python install 3.9`, which needs the internet (python-build-standalone on GitHub): with a short
timeout, so a machine without it learns so quickly. Prints the interpreter, or the reason there is
none on stderr with exit code 1.
"""
from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

try:
    from .cache import cache_dir
except ImportError:  # run as a script (tests/run-all): its own directory is sys.path[0]
    from cache import cache_dir

INSTALL_TIMEOUT = 90  # seconds; a download that works takes ~10 s, one that cannot fails at once


def _version_key(path: str) -> tuple:
    return tuple(int(n) for n in re.findall(r"\d+", Path(path).parents[1].name))


def _uv() -> str | None:
    """uv on PATH, else the one the label_studio_env role put into a cached environment."""
    found = shutil.which("uv")
    if found:
        return found
    try:
        candidates = sorted(glob.glob(str(cache_dir() / "env-*/bin/uv")))
    except Exception:  # an unsafe cache is reported by the tests themselves; here: no uv
        return None
    return candidates[0] if candidates else None


def find_old_python(install: bool = False) -> tuple[str | None, str]:
    """(interpreter or None, what was tried)."""
    tried = []
    env = os.environ.get("LS_STUDY_PYTHON39")
    if env:
        if os.access(env, os.X_OK):
            return env, f"LS_STUDY_PYTHON39={env}"
        tried.append(f"LS_STUDY_PYTHON39={env} is not executable")
    builds = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.9.*/bin/python")), key=_version_key)
    if builds:
        return builds[-1], "pyenv build"
    tried.append("no ~/.pyenv/versions/3.9.*")
    uv = _uv()
    if uv is None:
        tried.append("no uv to find or install one")
        return None, "; ".join(tried)
    found = subprocess.run([uv, "python", "find", "3.9"], capture_output=True, text=True)
    if found.returncode == 0 and found.stdout.strip():
        return found.stdout.strip(), "uv python find 3.9"
    tried.append("uv has no managed 3.9")
    if install:
        try:
            done = subprocess.run([uv, "python", "install", "3.9"], capture_output=True, text=True,
                                  timeout=INSTALL_TIMEOUT)
            if done.returncode == 0:
                found = subprocess.run([uv, "python", "find", "3.9"], capture_output=True, text=True)
                if found.returncode == 0 and found.stdout.strip():
                    return found.stdout.strip(), "uv python install 3.9"
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            tried.append(f"`uv python install 3.9` failed: {last}")
        except subprocess.TimeoutExpired:
            tried.append(f"`uv python install 3.9` did not finish in {INSTALL_TIMEOUT} s")
    return None, "; ".join(tried)


if __name__ == "__main__":
    python, how = find_old_python(install="--install" in sys.argv[1:])
    if python is None:
        print(how, file=sys.stderr)
        sys.exit(1)
    print(python)
