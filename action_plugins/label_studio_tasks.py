# -*- coding: utf-8 -*-
"""Action plugin of label_studio_tasks: the tasks cross to the node inside the task itself, and
on the local connection the work runs in Ansible's own process.

Node elsewhere (SSH): with bundle_src, the bundle crosses to the node inside the task. Without it
playbooks/assign.yml needed an ansible.builtin.copy first, which runs two modules (stat, then copy:
~0.9 s) and leaves a file for a later step to remove. Here the file goes into the private temp dir
Ansible makes on the node for this task (0700), is made 0600, is read and removed by the module
(remove_bundle), and the temp dir is removed when the task ends, whether it succeeded or failed.

Node here (the local connection, without become: the default inventory): the node is this
machine and this account, so the module's work (module_utils/label_studio_task_import.py) runs
in this process and reads bundle_src where it is. A module run would add its payload, an
interpreter and a copy of the tasks (~0.5 s of assign.yml's ~1.5 s over the imports themselves)
and change nothing else: the same argument spec, checks, check mode, diff and result.

With remove_bundle_src, the controller's file (and its directory, when that is then empty) goes
when this host is the only one of the play's batch (otherwise another host may still need it, and
the caller removes it).
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import ansible.module_utils
from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

# The project's module_utils, importable as ansible.module_utils.NAME the way its modules import
# them (ansible.cfg's module_utils setting serves the modules' payloads, not the controller).
_MODULE_UTILS = os.path.join(os.path.dirname(os.path.dirname(os.path.realpath(__file__))), "module_utils")
if _MODULE_UTILS not in ansible.module_utils.__path__:
    ansible.module_utils.__path__.append(_MODULE_UTILS)

from ansible.module_utils import label_studio_task_import  # noqa: E402

display = Display()


class ActionModule(ActionBase):
    TRANSFERS_FILES = True

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp  # the shell's tmpdir is used (Ansible's convention since 2.5)
        args = dict(self._task.args)
        source = args.pop("bundle_src", None)
        remove_source = boolean(args.pop("remove_bundle_src", False), strict=False)
        if source is not None:
            if args.get("bundle") is not None:
                raise AnsibleActionFail("bundle_src and bundle are mutually exclusive")
            source = os.path.expanduser(str(source))
            if not os.path.isfile(source):
                raise AnsibleActionFail("bundle_src %s is not a file on the controller" % source)
        # Another host of this batch may still need the file: then the caller removes it.
        alone = len((task_vars or {}).get("ansible_play_batch") or []) <= 1
        try:
            if self._connection.transport == "local" and not self._play_context.become:
                result.update(self._run_here(args, source))
            elif source is None:
                result.update(self._execute_module(module_args=args, task_vars=task_vars))
            else:
                result.update(self._run_on_node(args, source, task_vars))
        finally:
            if source is not None and remove_source and alone:
                result["bundle_src_removed"] = remove_with_empty_dir(source)
        return result

    def _run_here(self, args, source):
        """The module's work in this process: the node is this machine and this account."""
        if source is not None:
            args["bundle"] = source  # read where it is; removed (remove_bundle_src) by run()
        checked = ArgumentSpecValidator(label_studio_task_import.ARGUMENT_SPEC,
                                        **label_studio_task_import.ARGUMENT_RULES).validate(args)
        if checked.error_messages:
            raise AnsibleActionFail("label_studio_tasks: %s" % "; ".join(checked.error_messages))
        # ansible -vvv names a module's file for every module run; this is its counterpart.
        display.vvv("label_studio_tasks: the local connection, run in Ansible's own process",
                    host=self._play_context.remote_addr)
        try:
            outcome, warnings = label_studio_task_import.run_import(
                checked.validated_parameters, bool(self._play_context.check_mode), bool(self._task.diff))
        except label_studio_task_import.ImportFailed as err:
            return dict(err.result, failed=True, msg=err.msg)
        return dict(outcome, warnings=warnings) if warnings else outcome

    def _run_on_node(self, args, source, task_vars):
        """Copy the bundle into the task's private temp dir on the node; the module reads and
        removes it, and the temp dir goes when the task ends."""
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
            return self._execute_module(module_args=args, task_vars=task_vars)
        finally:
            if made_here:
                self._remove_tmp_path(self._connection._shell.tmpdir, force=True)


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
