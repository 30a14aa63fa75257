# -*- coding: utf-8 -*-
"""Action plugin of study_check_names: the check runs in the controller's own process.

The check only reads its arguments, so a module run (an interpreter and its payload, ~0.4 s at
the start of every deploy and export) buys nothing; the emails then never leave this process
either. The same function, module_utils/study_annotator_check.check_annotators, runs here with
the module's argument spec.
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

from ansible.module_utils.study_annotator_check import ARGUMENT_SPEC, NamesRefused, check_annotators  # noqa: E402


class ActionModule(ActionBase):
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp  # nothing runs on a node
        _validation, params = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        try:
            result.update(changed=False, names=check_annotators(params))
        except NamesRefused as err:
            result.update(failed=True, msg=str(err))
        return result
