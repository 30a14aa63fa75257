# -*- coding: utf-8 -*-
"""The action plugin of the controller-only modules: their work runs in Ansible's own process.

study_check_names, study_batch_tasks and study_task_files only read and write files on the
controller (the playbooks delegate them to localhost), so starting a module for them (an
interpreter and its payload: ~0.3-0.5 s each, at the start of every deploy, export and assign)
buys nothing. The same function the module calls runs here, with the module's argument spec,
check mode, diff and warnings, and the task's arguments (the annotators' emails among them)
never leave this process.

action_plugins/study_check_names.py, study_batch_tasks.py and study_task_files.py are links to
this file: Ansible finds an action plugin by the module's name, and STEPS below says what each
name runs. Where no action plugin is configured, the modules run as modules and call the same
functions.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import ansible.module_utils
from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

# The project's module_utils, importable as ansible.module_utils.NAME the way its modules import
# them (ansible.cfg's module_utils setting serves the modules' payloads, not the controller).
_MODULE_UTILS = os.path.join(os.path.dirname(os.path.dirname(os.path.realpath(__file__))), "module_utils")
if _MODULE_UTILS not in ansible.module_utils.__path__:
    ansible.module_utils.__path__.append(_MODULE_UTILS)

from ansible.module_utils import study_annotator_check, study_batch_plan, study_task_files  # noqa: E402


def check_names(params, check_mode, diff):
    del check_mode, diff  # nothing is written either way
    return dict(changed=False, names=study_annotator_check.check_annotators(params)), []


# module name -> (its argument spec, the work: (params, check_mode, diff) -> (result, warnings),
# the exception that refuses the input with a message and nothing written)
STEPS = {
    "study_check_names": (study_annotator_check.ARGUMENT_SPEC, check_names,
                          study_annotator_check.NamesRefused),
    "study_batch_tasks": (study_batch_plan.ARGUMENT_SPEC, study_batch_plan.plan_batch,
                          study_batch_plan.BatchRefused),
    "study_task_files": (study_task_files.PUBLISH_ARGUMENT_SPEC, study_task_files.publish_task_files,
                         study_task_files.TaskFilesRefused),
}


class ActionModule(ActionBase):
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp  # nothing runs on a node
        name = self._task.action.rsplit(".", 1)[-1]
        if name not in STEPS:
            raise AnsibleActionFail("controller_step runs %s, not %s" % (", ".join(sorted(STEPS)), name))
        argument_spec, work, refused = STEPS[name]
        _validation, params = self.validate_argument_spec(argument_spec=argument_spec)
        try:
            outcome, warnings = work(params, bool(self._play_context.check_mode), bool(self._task.diff))
        except refused as err:
            result.update(failed=True, msg=str(err))
            return result
        result.update(outcome)
        if warnings:
            result["warnings"] = list(warnings)
        return result
