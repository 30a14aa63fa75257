#!/usr/bin/python
# -*- coding: utf-8 -*-
"""Ansible module: the assignment sheet as each annotator's tasks, validated (controller side)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: study_batch_tasks
short_description: Validate the assignment sheet and compute each annotator's tasks
description:
  - Reads the study's report records (a JSON array) and its assignment sheet (the first worksheet
    of an xlsx file with the columns C(id), C(batch) and C(a1) .. C(aN)) on the controller, and
    returns, for the requested batch or batches, the tasks each annotator gets.
  - A report goes to every annotator named in any of its row's C(a) cells, and to every annotator
    in O(annotators) when any C(a) cell says C(all) (as the original study read its sheet, whose
    batch0 and batch1 rows say C(all) in both C(a1) and C(a2)). A report counts once per annotator;
    C(all) in several cells is fine, and a name given twice, or next to C(all), is returned as a
    warning naming the file, row and columns, not an error.
  - A task is the report record without C(id) (Label Studio overwrites a data field called C(id)
    in JSON_MIN exports), plus O(key) (the report id) and C(batch).
  - >-
    Validates everything before writing anything and reports every problem at once, each naming
    the file, the row as Excel shows it (the header is row 1) and the column, for example
    "assignments.xlsx row 7, column C (a1): unknown annotator 'anotator2'; did you mean
    'annotator2'?". Checked are missing columns, duplicate report ids, ids not in O(reports),
    unknown annotator names, a batch with no annotator or annotators with no batch, a requested
    batch that is not in the sheet, and reports missing a field that O(label_config) shows. The
    whole sheet is checked, whatever O(batch) asks for.
  - Optionally writes the per-annotator task files C({batch}-{annotator}-tasks.json) into
    O(task_files_dir) for the record, as the original study did.
  - Batch names (from the sheet) and annotator names must be safe as parts of file names
    (module_utils/study_names.py, described in the README), that is letters of any script, digits,
    spaces, C(.), C(_) and C(-); not starting with C(.); not reserved (C(all), and for annotators
    C(users), C(annotations), C(unannotated) and names ending in C(.full)); no two equal ignoring
    case. Every file name derived from them is asserted to stay inside its directory.
  - The report text never leaves the module as a return value or argument (it would reach the
    node's syslog and Ansible's output); the tasks travel as a file, O(bundle).
  - Run it on the controller (delegated to C(localhost), or in a play on C(localhost)); it needs
    the Python package openpyxl there. Its action plugin (action_plugins/controller_step.py)
    runs the work in Ansible's own process on the controller, which saves starting a module
    there; the module itself runs only where that plugin is not configured.
version_added: "1.0.0"
author:
  - Label Studio study automation (@label-studio-study)
extends_documentation_fragment:
  - study_key
options:
  reports:
    description:
      - Path of the report records, a JSON array of objects with at least an C(id).
    type: path
    required: true
  assignments:
    description:
      - Path of the assignment sheet (xlsx). Its first worksheet is read; row 1 is the header.
      - Columns are found by header, case-insensitive, in any order; other columns are ignored.
    type: path
    required: true
  label_config:
    description:
      - Path of the Label Studio label config (XML). Every C($field) it shows must be present in
        every report that is in a batch. Omit to skip that check.
    type: path
  annotators:
    description:
      - The study's annotators, each a name or a dict with C(name) (and C(email), ignored here).
      - Names are matched exactly; C(all) in the sheet means all of them.
    type: list
    elements: raw
    required: true
  batch:
    description:
      - The batch to compute, as named in the sheet's C(batch) column, or C(all) for every batch
        in the sheet.
    type: str
    required: true
  task_files_dir:
    description:
      - Directory for the task files C({batch}-{annotator}-tasks.json), one per batch and
        annotator with at least one task. Created C(0700) if missing (and made C(0700) when it
        is not, as the files hold report text); files are written
        atomically with mode C(0600) and only when their content differs.
      - Omit to write nothing.
    type: path
  stage_task_files:
    description:
      - Do not write the task files now; put the ones whose content would change in a new private
        directory (C(0700), Python's C(tempfile.mkdtemp), prefix C(study-task-files-)) and return
        it as C(staged_task_files), for C(study_task_files) to put in place once the import has
        succeeded. C(playbooks/assign.yml) does this, so that a refused import leaves the task
        files as they were. This step then reports no change; C(study_task_files) does.
      - Needs O(task_files_dir). In check mode nothing is staged.
    type: bool
    default: false
  bundle:
    description:
      - A file to write (mode C(0600); put it in a private directory, e.g. made by
        C(ansible.builtin.tempfile)) holding, for every annotator with tasks, the tasks of every
        requested batch, as one JSON object keyed by project title (O(project_prefix) and the
        annotator's name). C(playbooks/assign.yml) copies it to the node once and imports it
        with one run of C(label_studio_tasks) (its O(label_studio_tasks#module:bundle) option).
      - Written in check mode too (the import's check mode reads it); the caller removes it when
        done.
    type: path
  bundle_tempdir:
    description:
      - Write O(bundle) as C(tasks.json) in a new private directory (C(0700), made with Python's
        C(tempfile.mkdtemp) under the controller's temp dir, prefix C(study-assign-)) instead of a
        path given. The result's C(bundle.dir) names the directory; the caller removes it when
        done (C(playbooks/assign.yml) does, also when a later step fails). Saves the caller a
        separate step that makes the directory. Mutually exclusive with O(bundle).
    type: bool
    default: false
  project_prefix:
    description: Prefix of each annotator's project title, for the keys of O(bundle).
    type: str
    default: ""
attributes:
  check_mode:
    description: Computes and validates everything and reports which task files would change; writes nothing.
    support: full
  diff_mode:
    description: Shows, per task file that would change, its number of tasks before and after.
    support: full
notes:
  - The module never talks to Label Studio; import O(bundle) with C(label_studio_tasks).
  - It returns counts and paths, never task data.
seealso:
  - module: study_generate_assignments
  - module: study_task_files
"""

EXAMPLES = r"""
- name: Compute batch2's tasks and keep the task files
  study_batch_tasks:
    reports: "{{ study_reports }}"
    assignments: "{{ study_assignments }}"
    label_config: "{{ study_label_config }}"
    annotators: "{{ study_annotators }}"
    batch: batch2
    task_files_dir: "{{ study_task_files_dir }}"
    bundle: "{{ transfer.path }}/tasks.json"
    project_prefix: "{{ study_project_prefix }}"
  delegate_to: localhost
  run_once: true
  register: study_plan

- name: Every batch in the sheet, validation only
  study_batch_tasks:
    reports: files/study/reports.json
    assignments: files/study/assignments.xlsx
    annotators: [annotator1, annotator2, annotator3]
    batch: all
  delegate_to: localhost
"""

RETURN = r"""
batches:
  description: The batch names computed (O(batch), or every batch in sheet order for C(all)).
  returned: success
  type: list
  elements: str
  sample: [batch0, batch1, batch2]
task_counts:
  description:
    - Per annotator, the number of tasks of every requested batch together. Every annotator is
      present, with 0 if the batches give them nothing.
  returned: success
  type: dict
  sample: {annotator1: 60, annotator2: 60}
bundle:
  description:
    - The file written for O(bundle), how many projects and tasks it holds; with
      O(bundle_tempdir), also C(dir), the private directory made for it.
  returned: when O(bundle) or O(bundle_tempdir) is set
  type: dict
  sample: {path: /tmp/study-assign-x1/tasks.json, dir: /tmp/study-assign-x1, projects: 6, tasks: 360}
counts:
  description: Number of tasks per batch and annotator.
  returned: success
  type: dict
  sample: {batch2: {annotator1: 50, annotator2: 50}}
task_files:
  description: The task files for the requested batches, whether each changed (or would change).
  returned: when O(task_files_dir) is set
  type: list
  elements: dict
  sample: [{path: artifacts/tasks/batch2-annotator1-tasks.json, tasks: 50, changed: true}]
staged_task_files:
  description:
    - With O(stage_task_files), what C(study_task_files) takes as its
      O(study_task_files#module:staged), that is the task files dir, the private dir holding the
      staged files (C(null) when nothing is staged), their names, whether the task files change,
      and the diff. Paths, names and counts only.
  returned: when O(task_files_dir) and O(stage_task_files) are set
  type: dict
  sample: {directory: /study/artifacts/tasks, stage: /tmp/study-task-files-x1,
           files: [batch2-annotator1-tasks.json], changed: true, diff: {}}
"""

from ansible.module_utils.study_batch_plan import ARGUMENT_SPEC, BatchRefused, plan_batch
from ansible.module_utils.study_outputs import run_controller_step


def main():
    # The action plugin (action_plugins/controller_step.py) runs plan_batch in the controller's
    # own process; this runs where no action plugin is configured.
    run_controller_step(ARGUMENT_SPEC, plan_batch, BatchRefused)


if __name__ == "__main__":
    main()
