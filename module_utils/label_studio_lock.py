# -*- coding: utf-8 -*-
"""Exclusive locks on a node: one import per project (two imports that interleave would each
import what the other has not committed yet, and Label Studio keeps both copies), one edit of the
account's crontab at a time (crontab is read whole, edited and written back whole: two instances
deployed at once would each drop the other's new line), and one backup or restore per instance
(the node's label_studio_node package installs this same file)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import fcntl
import hashlib
import os
import time
from contextlib import contextmanager


class LockError(RuntimeError):
    """The lock could not be taken; the message says why."""


class LockBusy(LockError):
    """Someone else held the lock for longer than we were willing to wait."""


@contextmanager
def exclusive_lock(path, wait_seconds, busy_message, poll_seconds=0.2):
    """Hold an exclusive flock on `path` (created 0600, its directory 0700). The kernel releases
    it when the holder dies, so a killed run never leaves a stale lock behind. Raises
    LockBusy(busy_message) after waiting `wait_seconds`, LockError when flock itself fails."""
    folder = os.path.dirname(path)
    if folder and not os.path.isdir(folder):
        os.makedirs(folder, 0o700)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    deadline = time.monotonic() + wait_seconds
    try:
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except (IOError, OSError) as err:
                if err.errno not in (errno.EAGAIN, errno.EACCES):
                    # Not someone else's lock: e.g. ENOLCK on a home dir mounted without locking.
                    raise LockError("cannot lock %s: %s" % (path, err))
                if time.monotonic() > deadline:
                    raise LockBusy(busy_message)
                time.sleep(poll_seconds)
        yield
    finally:
        os.close(descriptor)


def _account_lock_file(name):
    """A lock file of this account's (in its home dir, so no other account can hold it)."""
    return os.path.join(os.path.expanduser("~"), ".cache", "label-studio-study", "locks", name)


@contextmanager
def project_lock(url, title, wait_seconds=600):
    """Hold an exclusive lock for (server, project) on this node."""
    name = hashlib.sha1(("%s\0%s" % (url.rstrip("/"), title)).encode("utf-8")).hexdigest()
    with exclusive_lock(_account_lock_file(name + ".lock"), wait_seconds,
                        "another import into project %r is still running on this node "
                        "(waited %d s)" % (title, wait_seconds)):
        yield


@contextmanager
def crontab_lock(wait_seconds=120):
    """Hold this account's crontab lock: every edit of the account's crontab by this project
    (every instance, every playbook run, every host of a play) takes it, so none is lost."""
    with exclusive_lock(_account_lock_file("crontab.lock"), wait_seconds,
                        "another edit of this account's crontab is still running (waited %d s)"
                        % wait_seconds):
        yield
