# -*- coding: utf-8 -*-
"""What the controller-side study modules (study_analyze, study_merge_annotations,
study_batch_tasks) share: input errors that name the file, the openpyxl check, and their output
files, private and written all at once, only when something changes."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json
import os
import re
import stat
import traceback

from ansible.module_utils.atomic_files import file_differs, write_all_atomic
from ansible.module_utils.basic import AnsibleModule, missing_required_lib

# The study's outputs hold report text and annotators' answers: never readable by others.
PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


class InputError(Exception):
    """A parameter or input file is unusable; the message names it."""


def require_openpyxl(module):
    """Fail the module run, before it reads anything, where openpyxl is missing.

    Imported here, not at the top: study_batch_tasks never needs it for plain sheets, and its
    import (with numpy's) costs ~0.15 s of every assign.yml run."""
    try:
        import openpyxl  # noqa: F401  (table_files imports it when writing an xlsx)
    except ImportError:
        module.fail_json(msg=missing_required_lib("openpyxl"), exception=traceback.format_exc())


def run_controller_step(argument_spec, work, refused):
    """main() of a controller-only module whose work action_plugins/controller_step.py also runs
    in Ansible's own process: work(params, check_mode, diff) -> (result, warnings); `refused`, the
    exception that refuses the input with a message and nothing written."""
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    try:
        result, warnings = work(module.params, module.check_mode, module._diff)
    except refused as err:
        module.fail_json(msg=str(err))
    for warning in warnings:
        module.warn(warning)
    module.exit_json(**result)


def parse_date(text):
    """The date of a day's exports, YYYYMMDD."""
    if not re.match(r"^[0-9]{8}$", text or ""):
        raise InputError("date must be YYYYMMDD, got %r" % (text,))
    try:
        day = datetime.datetime.strptime(text, "%Y%m%d").date()
    except ValueError:
        raise InputError("date %s is not a calendar date" % text)
    if day.year < 1980:
        # The date stamps the xlsx files, and zip entries cannot carry earlier times.
        raise InputError("date %s is before 1980" % text)
    return day


def read_json(path, what):
    """The JSON in `path`; an InputError names `what` and the file."""
    try:
        with open(path, "rb") as handle:
            return json.loads(handle.read().decode("utf-8"))
    except (IOError, OSError) as err:
        raise InputError("%s %s: cannot read it: %s" % (what, path, err))
    except (ValueError, UnicodeDecodeError) as err:
        raise InputError("%s %s: not valid JSON: %s" % (what, path, err))


class PrivateOutputs:
    """Files that belong together in one private directory: compared first (check mode reports
    the same `changed` as a real run), then written at once by write()."""

    def __init__(self, directory, files):
        self.directory = directory
        self.files = files  # [(path, bytes)]
        self.make_dir = not os.path.isdir(directory)
        self.fix_dir_mode = (not self.make_dir
                             and stat.S_IMODE(os.stat(directory).st_mode) != PRIVATE_DIR)
        self.differs = [file_differs(path, data, PRIVATE_FILE) for path, data in files]

    @property
    def changed(self):
        return self.make_dir or self.fix_dir_mode or any(self.differs)

    def write(self):
        """Make the directory 0700 and replace what differs; the list of per-file changed flags.

        Every file is staged before the first is replaced, so a failure (a full disk) leaves the
        old set whole. Raises OSError naming nothing: the caller says which directory failed.
        """
        if self.make_dir:
            os.makedirs(self.directory, PRIVATE_DIR)
        os.chmod(self.directory, PRIVATE_DIR)  # makedirs' mode is subject to the umask
        self.differs = write_all_atomic(self.files, PRIVATE_FILE)
        return self.differs
