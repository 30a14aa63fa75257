"""One backup or restore of an instance at a time (cron and a manual run may overlap)."""
from __future__ import annotations

import contextlib
import os

from .errors import NodeError
from .label_studio_lock import LockError, exclusive_lock


def lock_path(state_dir: str) -> str:
    return os.path.join(state_dir, "backup.lock")


@contextlib.contextmanager
def instance_lock(path: str, timeout: float):
    try:
        with exclusive_lock(path, timeout, f"another backup or restore of this instance holds {path}",
                            poll_seconds=1):
            yield
    except LockError as err:  # busy, or flock itself failed
        raise NodeError(str(err)) from err
