"""The test/bench cache (tests/support/cache.py) is refused when another account could write to it."""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from support.cache import UnsafeCacheDir, cache_dir, default_cache_dir, unsafe_reason

OTHER_UID = 54321  # no account needs to exist: ownership by any uid other than root/us is refused


@pytest.fixture
def safe_base():
    """A dir whose whole path only root or we can write: under our home (pytest's tmp_path is
    under /tmp, mode 1777, which the check refuses by design)."""
    base = Path(tempfile.mkdtemp(prefix=".cache-check-", dir=os.path.expanduser("~")))
    os.chmod(base, 0o755)
    yield base
    shutil.rmtree(base)


def test_a_safe_dir_is_accepted(safe_base, monkeypatch):
    monkeypatch.setenv("LS_STUDY_TEST_CACHE", str(safe_base / "cache"))
    assert unsafe_reason(safe_base, os.geteuid()) is None
    made = cache_dir()
    assert made == safe_base / "cache" and made.is_dir()
    assert oct(made.stat().st_mode & 0o777) in ("0o755", "0o700")


def test_a_world_writable_dir_is_refused(safe_base, monkeypatch):
    target = safe_base / "cache"
    target.mkdir()
    os.chmod(target, 0o777)
    monkeypatch.setenv("LS_STUDY_TEST_CACHE", str(target))
    with pytest.raises(UnsafeCacheDir, match=rf"{target} has mode 0777.*LS_STUDY_TEST_CACHE"):
        cache_dir()


def test_a_dir_owned_by_another_uid_is_refused(safe_base, monkeypatch, not_tested):
    if os.geteuid() != 0:
        not_tested("a test cache dir owned by another uid is refused",
                   "chown to another uid needs root (the suite runs as root)")
    target = safe_base / "cache"
    target.mkdir(mode=0o755)
    os.chown(target, OTHER_UID, OTHER_UID)
    monkeypatch.setenv("LS_STUDY_TEST_CACHE", str(target))
    with pytest.raises(UnsafeCacheDir, match=rf"{target} is owned by uid {OTHER_UID}"):
        cache_dir()


def test_a_group_writable_dir_above_is_refused(safe_base, monkeypatch):
    os.chmod(safe_base, 0o775)
    monkeypatch.setenv("LS_STUDY_TEST_CACHE", str(safe_base / "cache"))
    with pytest.raises(UnsafeCacheDir, match=rf"{safe_base} has mode 0775"):
        cache_dir()
    # Refused before anything was created in it.
    assert not (safe_base / "cache").exists()


def test_a_symlink_to_a_world_writable_dir_is_refused(safe_base, monkeypatch):
    target = safe_base / "open"
    target.mkdir()
    os.chmod(target, 0o777)
    (safe_base / "link").symlink_to(target)
    monkeypatch.setenv("LS_STUDY_TEST_CACHE", str(safe_base / "link"))
    with pytest.raises(UnsafeCacheDir, match="has mode 0777"):
        cache_dir()


def test_the_old_shared_var_tmp_path_is_refused():
    # /var/tmp is 1777: a name there can be created first by any account.
    assert "mode 1777" in unsafe_reason(Path("/var/tmp"), os.geteuid())


def test_the_default_is_per_user_and_not_in_a_shared_tmp_dir(monkeypatch):
    assert default_cache_dir(0) == Path("/var/cache/label-studio-study-tests")
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert default_cache_dir(1000) == Path(os.path.expanduser("~"), ".cache", "label-studio-study-tests")
    monkeypatch.setenv("XDG_CACHE_HOME", "/home/someone/.cache-elsewhere")
    assert default_cache_dir(1000) == Path("/home/someone/.cache-elsewhere/label-studio-study-tests")
