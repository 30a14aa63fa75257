# -*- coding: utf-8 -*-
"""A role's dirs and files on the node, made as wanted in one module run (label_studio_files).

Each copy, template or file task is a module run of its own (a copy or template two): a first
deploy paid about twenty of them for the service's dirs and files alone. Here one run plans what
differs (`plan_file_set`, pure: it only reads) and makes it so (`apply_file_set`): dirs first
(with the parents they need, each made with the dir's mode), then every file's new content
staged and renamed into place together (atomic_files), then what must be absent.

`make_file_set` is the whole run behind both callers: the module, which reads the texts from the
copies its action plugin made on the node, and the action plugin itself on the local connection
(the node is this machine and account: no copies, no module run).
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat

from ansible.module_utils.atomic_files import write_all_atomic


ARGUMENT_SPEC = dict(
    dirs=dict(type="list", elements="dict", default=[], options=dict(
        path=dict(type="path", required=True),
        mode=dict(type="str", required=True),
    )),
    files=dict(type="list", elements="dict", default=[], options=dict(
        dest=dict(type="path", required=True),
        src=dict(type="path"),
        content=dict(type="str", no_log=True),
        content_base64=dict(type="str", no_log=True),
        mode=dict(type="str", required=True),
        secret=dict(type="bool", default=False),
    )),
    absent=dict(type="list", elements="path", default=[]),
)


class FileSetError(Exception):
    """A path that cannot be made as wanted (e.g. a file where a dir must be)."""


def parse_mode(mode, where):
    """An octal mode string ("0700") as an int; FileSetError naming `where` otherwise."""
    text = str(mode)
    try:
        value = int(text, 8)
    except ValueError:
        value = -1
    if not 0 <= value <= 0o7777:
        raise FileSetError("%s: mode %r is not an octal mode such as '0600'" % (where, text))
    return value


def _current(path):
    """(kind, mode) of what `path` is now: kind "dir", "file", "other" or None when absent."""
    try:
        found = os.lstat(path)
    except FileNotFoundError:
        return None, None
    if stat.S_ISDIR(found.st_mode):
        return "dir", stat.S_IMODE(found.st_mode)
    if stat.S_ISREG(found.st_mode):
        return "file", stat.S_IMODE(found.st_mode)
    return "other", stat.S_IMODE(found.st_mode)


def _read(path):
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def plan_file_set(dirs, files, absent):
    """What apply_file_set would change, without changing anything.

    dirs: [(path, mode)]; files: [(dest, data bytes, mode)]; absent: [path].
    Returns {"dirs": [paths to make or chmod], "files": [dests to write or chmod],
    "absent": [paths to remove], "before": {path: (old bytes or None, old mode or None)}};
    FileSetError when a path
    is something else than it must be (a file where a dir goes, a dir where a file goes).
    """
    plan = {"dirs": [], "files": [], "absent": [], "before": {}}
    for path, mode in dirs:
        kind, current_mode = _current(path)
        if kind not in (None, "dir"):
            raise FileSetError("%s should be a directory but is not one" % path)
        if kind is None or current_mode != mode:
            plan["dirs"].append(path)
            plan["before"][path] = (None, current_mode)
    for dest, data, mode in files:
        kind, current_mode = _current(dest)
        if kind not in (None, "file"):
            raise FileSetError("%s should be a regular file but is not one" % dest)
        before = _read(dest) if kind == "file" else None
        if before != data or current_mode != mode:
            plan["files"].append(dest)
            plan["before"][dest] = (before, current_mode)
    for path in absent:
        kind, _mode = _current(path)
        if kind == "dir":
            raise FileSetError("%s should be absent but is a directory (not removed)" % path)
        if kind is not None:
            plan["absent"].append(path)
    return plan


def make_dir(path, mode):
    """Make `path` and the parents it lacks, each with `mode` (as ansible.builtin.file does for
    state=directory); an existing dir only gets its mode set."""
    missing = []
    current = os.path.abspath(path)
    while not os.path.isdir(current):
        missing.append(current)
        current = os.path.dirname(current)
    for directory in reversed(missing):
        os.mkdir(directory, mode)
        os.chmod(directory, mode)  # mkdir's mode is masked by the umask
    if not missing:
        os.chmod(path, mode)


def apply_file_set(dirs, files, absent):
    """Make the node as planned; returns the plan (what changed)."""
    plan = plan_file_set(dirs, files, absent)
    modes = dict(dirs)
    for path in plan["dirs"]:
        make_dir(path, modes[path])
    writes = [(dest, data, mode) for dest, data, mode in files if dest in plan["files"]]
    write_all_atomic(writes)
    for path in plan["absent"]:
        os.unlink(path)
    return plan


def diff_text(data):
    """A file's bytes as diff text, or a note when they are not UTF-8 text."""
    if data is None:
        return ""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return "(%d bytes, not text)\n" % len(data)


def _header(path, mode):
    return path if mode is None else "%s (mode %04o)" % (path, mode)


def file_set_diffs(plan, dirs, files, secret):
    """Ansible diffs (a list of before/after dicts) of a plan; the texts of dests in `secret`
    are never shown, only that they change."""
    wanted = dict((dest, (data, mode)) for dest, data, mode in files)
    dir_modes = dict(dirs)
    diffs = []
    for path in plan["dirs"]:
        _nothing, old_mode = plan["before"][path]
        diffs.append({"before_header": _header(path, old_mode),
                      "after_header": _header(path, dir_modes[path]),
                      "before": "" if old_mode is None else "directory\n", "after": "directory\n"})
    for dest in plan["files"]:
        old, old_mode = plan["before"][dest]
        new, new_mode = wanted[dest]
        if dest in secret:
            before, after = "", "(secret: its text is not shown)\n"
        else:
            before, after = diff_text(old), diff_text(new)
        diffs.append({"before_header": _header(dest, old_mode), "after_header": _header(dest, new_mode),
                      "before": before, "after": after})
    for path in plan["absent"]:
        diffs.append({"before_header": path, "after_header": path,
                      "before": "file\n", "after": "absent\n"})
    return diffs


def make_file_set(params, texts, check_mode=False, diff=False):
    """The result of one run (check_mode: what it would change). params: the options as
    ARGUMENT_SPEC validates them; texts: each item of params["files"]'s bytes, in order.
    FileSetError (or OSError) when a path cannot be made as wanted; every mode and kind is checked
    before the first write."""
    dirs = [(item["path"], parse_mode(item["mode"], item["path"])) for item in params["dirs"]]
    files = [(item["dest"], data, parse_mode(item["mode"], item["dest"]))
             for item, data in zip(params["files"], texts)]
    if check_mode:
        plan = plan_file_set(dirs, files, params["absent"])
    else:
        plan = apply_file_set(dirs, files, params["absent"])
    changed = bool(plan["dirs"] or plan["files"] or plan["absent"])
    result = dict(changed=changed, dirs=plan["dirs"], files=plan["files"], absent=plan["absent"])
    if diff and changed:
        secret = set(item["dest"] for item in params["files"] if item["secret"])
        result["diff"] = file_set_diffs(plan, dirs, files, secret)
    return result
