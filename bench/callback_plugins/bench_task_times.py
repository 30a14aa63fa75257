# -*- coding: utf-8 -*-
"""Per-task wall times of a playbook run, for bench/deploy (ansible-core has no profile_tasks).

Enabled only by bench/deploy (ANSIBLE_CALLBACK_PLUGINS + ANSIBLE_CALLBACKS_ENABLED); writes
[{"task": name, "seconds": s}, ...] in run order to the file named by BENCH_TASK_TIMES_FILE.
A task's time runs from its start to the next task's start (or the end of the play).
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: bench_task_times
type: aggregate
short_description: Write each task's wall time to a JSON file (bench/ only)
description: Used by bench/deploy to show where a deploy spends its time.
requirements:
  - BENCH_TASK_TIMES_FILE set to the output path
"""

import json
import os
import time

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_task_times"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super(CallbackModule, self).__init__(*args, **kwargs)
        self._times = []
        self._current = None

    def _close(self):
        if self._current:
            name, start = self._current
            self._times.append({"task": name, "seconds": time.monotonic() - start})
            self._current = None

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._close()
        self._current = (task.get_name(), time.monotonic())

    def v2_playbook_on_handler_task_start(self, task):
        self.v2_playbook_on_task_start(task, False)

    def v2_playbook_on_stats(self, stats):
        self._close()
        path = os.environ.get("BENCH_TASK_TIMES_FILE")
        if path:
            with open(path, "w") as handle:
                json.dump(self._times, handle)
