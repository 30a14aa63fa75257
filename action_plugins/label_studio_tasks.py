# -*- coding: utf-8 -*-
"""Action plugin of label_studio_tasks: with bundle_src, the bundle crosses to the node inside
the task itself.

Without it playbooks/assign.yml needed an ansible.builtin.copy first, which runs two modules
(stat, then copy: ~0.9 s) and leaves a file for a later step to remove. Here the file goes into
the private temp dir Ansible makes on the node for this task (0700), is made 0600, is read and
removed by the module (remove_bundle), and the temp dir is removed when the task ends, whether
it succeeded or failed. With remove_bundle_src, the controller's file (and its directory, when
that is then empty) goes too when this host is the only one of the play's batch (otherwise another
host may still need it, and the caller removes it). Without bundle_src the module runs as it
always has.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible.errors import AnsibleActionFail
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    TRANSFERS_FILES = True

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp  # the shell's tmpdir is used (Ansible's convention since 2.5)
        args = dict(self._task.args)
        source = args.pop("bundle_src", None)
        if source is None:
            result.update(self._execute_module(module_args=args, task_vars=task_vars))
            return result
        if args.get("bundle") is not None:
            raise AnsibleActionFail("bundle_src and bundle are mutually exclusive")
        source = os.path.expanduser(str(source))
        if not os.path.isfile(source):
            raise AnsibleActionFail("bundle_src %s is not a file on the controller" % source)
        remove_source = boolean(args.pop("remove_bundle_src", False), strict=False)
        # Another host of this batch may still need the file: then the caller removes it.
        alone = len((task_vars or {}).get("ansible_play_batch") or []) <= 1
        made_here = self._connection._shell.tmpdir is None
        try:
            directory = self._connection._shell.tmpdir or self._make_tmp_path()
            remote = self._connection._shell.join_path(directory, "bundle.json")
            self._transfer_file(source, remote)
            # The dir is private already; the file is made private too before any module reads it.
            chmod = self._remote_chmod([remote], "0600")
            if chmod.get("rc", 0) != 0:
                raise AnsibleActionFail("cannot make %s private: %s" % (remote, chmod.get("stderr", "")))
            args.update(bundle=remote, remove_bundle=True)
            result.update(self._execute_module(module_args=args, task_vars=task_vars))
        finally:
            if made_here:
                self._remove_tmp_path(self._connection._shell.tmpdir, force=True)
            if remove_source and alone:
                result["bundle_src_removed"] = remove_with_empty_dir(source)
        return result


def remove_with_empty_dir(path):
    """Remove a file and then its directory if that is now empty; True when both are gone."""
    try:
        os.remove(path)
    except FileNotFoundError:
        pass
    try:
        os.rmdir(os.path.dirname(path))
    except OSError:
        return False
    return True
