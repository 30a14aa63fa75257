# -*- coding: utf-8 -*-
"""Atomic, private file writes for study data."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import tempfile


def same_content(path, content):
    try:
        with open(path, "rb") as handle:
            return handle.read() == content
    except (IOError, OSError):
        return False


def write_atomic(path, content, mode=0o600):
    """Write bytes to path via a temp file in the same dir and a rename: readers and a crash
    see the old file or the new one, never half of one. Returns True if the content changed."""
    if same_content(path, content):
        return False
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.rename(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return True
