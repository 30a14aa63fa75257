# -*- coding: utf-8 -*-
"""One writer per project: two imports that interleave would each import what the other has
not committed yet, and Label Studio keeps both copies."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import fcntl
import hashlib
import os
import time
from contextlib import contextmanager


@contextmanager
def project_lock(url, title, wait_seconds=600):
    """Hold an exclusive lock for (server, project) on this node. The kernel releases it when the
    holder dies, so a killed import never leaves a stale lock behind."""
    folder = os.path.join(os.path.expanduser("~"), ".cache", "label-studio-study", "locks")
    if not os.path.isdir(folder):
        os.makedirs(folder, 0o700)
    name = hashlib.sha1(("%s\0%s" % (url.rstrip("/"), title)).encode("utf-8")).hexdigest()
    handle = open(os.path.join(folder, name + ".lock"), "a")
    deadline = time.time() + wait_seconds
    try:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except (IOError, OSError) as err:
                if err.errno not in (errno.EAGAIN, errno.EACCES) or time.time() > deadline:
                    raise RuntimeError("another import into project %r is still running on this node "
                                       "(waited %d s)" % (title, wait_seconds))
                time.sleep(0.2)
        yield
    finally:
        handle.close()
