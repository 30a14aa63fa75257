# -*- coding: utf-8 -*-
"""Action plugin of study_batch_tasks: the controller's step runs in the controller's own process.

The step only ever reads and writes files on the controller (playbooks/assign.yml delegates it
to localhost), so the module's start-up (an interpreter, its payload, ~0.3-0.5 s for the
20-annotator study) buys nothing: the same function, module_utils/study_batch_plan.plan_batch,
runs here, with the module's argument spec, check mode, diff and warnings.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import ansible.module_utils
from ansible.plugins.action import ActionBase

# The project's module_utils, importable as ansible.module_utils.NAME the way its modules import
# them (ansible.cfg's module_utils setting serves the modules' payloads, not the controller).
_MODULE_UTILS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "module_utils")
if _MODULE_UTILS not in ansible.module_utils.__path__:
    ansible.module_utils.__path__.append(_MODULE_UTILS)

from ansible.module_utils.study_batch_plan import ARGUMENT_SPEC, BatchRefused, plan_batch  # noqa: E402


class ActionModule(ActionBase):
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp  # nothing runs on a node
        _validation, params = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        try:
            planned, warnings = plan_batch(params, bool(self._play_context.check_mode),
                                           bool(self._task.diff))
        except BatchRefused as err:
            result.update(failed=True, msg=str(err))
            return result
        result.update(planned)
        if warnings:
            result["warnings"] = list(warnings)
        return result
