#!/usr/bin/python
# -*- coding: utf-8 -*-
"""Ansible module: the staged task files put in place, once the import has succeeded (controller side)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: study_task_files
short_description: Put the task files that study_batch_tasks staged in place
description:
  - The task files (C({batch}-{annotator}-tasks.json)) are the study's record of what each
    annotator was given. C(playbooks/assign.yml) has C(study_batch_tasks) stage the ones that
    would change (its O(study_batch_tasks#module:stage_task_files) option) and runs this module
    after every annotator's import has succeeded, so that a refused import leaves the record as it
    was.
  - Writes each staged file into the task files dir (created C(0700), or made C(0700)) atomically
    with mode C(0600), only where its content differs, then removes the stage.
  - Run it on the controller (delegated to C(localhost)). Its action plugin
    (action_plugins/controller_step.py) runs the work in Ansible's own process there.
version_added: "1.0.0"
author:
  - Label Studio study automation (@label-studio-study)
options:
  staged:
    description:
      - The C(staged_task_files) result of C(study_batch_tasks), with C(directory) (the task
        files dir, absolute), C(stage) (the private dir holding the staged files, or C(null)),
        C(files) (their names), C(changed) and C(diff).
    type: dict
    required: true
attributes:
  check_mode:
    description: Reports whether the task files would change (nothing is staged in check mode); writes nothing.
    support: full
  diff_mode:
    description: Shows, per task file that changes, its number of tasks before and after.
    support: full
notes:
  - It reads and writes files on the controller only and returns paths, never task data.
seealso:
  - module: study_batch_tasks
"""

EXAMPLES = r"""
- name: Keep the task files, now that every import succeeded
  study_task_files:
    staged: "{{ study_plan.staged_task_files }}"
  delegate_to: localhost
  run_once: true
  when: study_plan.staged_task_files.changed
"""

RETURN = r"""
directory:
  description: The task files dir.
  returned: success
  type: str
  sample: /study/artifacts/tasks
stage_removed:
  description: Whether the stage was removed (there was one, and this was not check mode).
  returned: when a stage was given and not in check mode
  type: bool
  sample: true
"""

from ansible.module_utils.study_outputs import run_controller_step
from ansible.module_utils.study_task_files import (PUBLISH_ARGUMENT_SPEC, TaskFilesRefused,
                                                   publish_task_files)


def main():
    # The action plugin (action_plugins/controller_step.py) runs publish_task_files in the
    # controller's own process; this runs where no action plugin is configured.
    run_controller_step(PUBLISH_ARGUMENT_SPEC, publish_task_files, TaskFilesRefused)


if __name__ == "__main__":
    main()
