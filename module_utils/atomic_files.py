# -*- coding: utf-8 -*-
"""Write a file all at once or not at all, and only when its content changes."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat
import tempfile


def file_differs(path, data, mode=0o600):
    """Whether write_atomic(path, data, mode) would change anything (for check mode)."""
    return _difference(path, data, mode) is not None


def write_atomic(path, data, mode=0o600):
    """Replace `path` with `data` (bytes); return whether anything changed.

    Identical content is not rewritten (a re-run keeps the file's mtime). Otherwise the bytes go to
    a temporary file in the same directory, are fsynced and renamed over `path`, so a reader or a
    crash sees the old file or the new one, never half of one. The file has `mode` from the start:
    study data is never readable by others, not even for a moment.
    """
    return write_all_atomic([(path, data)], mode)[0]


def write_all_atomic(files, mode=0o600):
    """write_atomic for several (path, data) pairs that belong together; list of changed flags.

    A pair may carry its own mode as a third item, (path, data, mode); `mode` is for the others.
    Every new content is written and fsynced to its temporary file before the first rename, so a
    failure while writing (a full disk) leaves all the old files in place, not a mixed set.
    """
    files = [(item[0], item[1], item[2] if len(item) > 2 else mode) for item in files]
    differences = [_difference(path, data, file_mode) for path, data, file_mode in files]
    staged = []
    try:
        for (path, data, file_mode), difference in zip(files, differences):
            if difference == "content":
                staged.append((_stage(path, data, file_mode), path))
    except BaseException:
        for temporary, _path in staged:
            remove_if_present(temporary)
        raise
    for (path, _data, file_mode), difference in zip(files, differences):
        if difference == "mode":
            os.chmod(path, file_mode)
    directories = set()
    for index, (temporary, path) in enumerate(staged):
        try:
            os.replace(temporary, path)
        except BaseException:
            for left, _path in staged[index:]:
                remove_if_present(left)
            raise
        directories.add(os.path.dirname(os.path.abspath(path)))
    for directory in sorted(directories):
        fsync_directory(directory)
    return [difference is not None for difference in differences]


def _stage(path, data, mode):
    """Write data to a fresh temporary file beside path (mode set before any byte); its name."""
    handle, temporary = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)),
                                         prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            os.fchmod(out.fileno(), mode)
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        remove_if_present(temporary)
        raise
    return temporary


def write_new(path, data, mode=0o600):
    """Create `path`, which must not exist, holding `data` (bytes), with `mode` from its first
    byte. For a scratch file in a private dir that lives for one run: there is nothing to
    replace, so no temporary file and rename, and no fsync."""
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode), "wb") as out:
        out.write(data)


def remove_if_present(path):
    """Remove a file; one that is already gone is fine."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _difference(path, data, mode):
    """None when `path` already holds `data` with `mode`, else "content" or "mode"."""
    try:
        with open(path, "rb") as handle:
            current = handle.read()
            current_mode = stat.S_IMODE(os.fstat(handle.fileno()).st_mode)
    except FileNotFoundError:
        return "content"
    if current != data:
        return "content"
    return None if current_mode == mode else "mode"


def fsync_directory(directory):
    """Make renames and new entries in `directory` durable (the node's backup and restore use
    this too: the file is installed in the label_studio_node package)."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
