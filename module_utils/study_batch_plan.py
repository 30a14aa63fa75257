# -*- coding: utf-8 -*-
"""The controller's step of playbooks/assign.yml: the study's sheet validated, each annotator's tasks
planned, the import bundle and the task files written or staged (study_batch_tasks' whole work).

One function, plan_batch(), behind two callers: the module (library/study_batch_tasks.py) and its
action plugin, which runs it in the controller's own process instead of starting a module there
(the step always runs on the controller; a module run costs ~0.3-0.5 s on top of the work).
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil
import tempfile

from ansible.module_utils.atomic_files import write_atomic, write_new
from ansible.module_utils.label_studio_config import LabelConfigError, referenced_fields
from ansible.module_utils.study_assignment_plan import (
    plan_tasks, render_bundle, task_counts, task_file_clashes, tasks_by_annotator)
from ansible.module_utils.study_outputs import PRIVATE_FILE
from ansible.module_utils.study_sheet import StudyDataError
from ansible.module_utils.study_task_files import stage_task_files, sync_task_files
from ansible.module_utils.study_validation import (format_problems, load_study, resolve_batches,
                                                   sheet_warnings)

ARGUMENT_SPEC = dict(
    reports=dict(type="path", required=True),
    assignments=dict(type="path", required=True),
    label_config=dict(type="path"),
    annotators=dict(type="list", elements="raw", required=True),
    batch=dict(type="str", required=True),
    key=dict(type="str", default="study_id", no_log=False),
    task_files_dir=dict(type="path"),
    bundle=dict(type="path"),
    bundle_tempdir=dict(type="bool", default=False),
    stage_task_files=dict(type="bool", default=False),
    project_prefix=dict(type="str", default=""),
)


class BatchRefused(Exception):
    """The sheet, the reports or the options cannot be used; nothing was written."""


def required_fields(path):
    """Fields the label config shows, or ([], problem) when it cannot be used."""
    if not path:
        return [], []
    try:
        with open(path, "rb") as handle:
            return referenced_fields(handle.read().decode("utf-8")), []
    except (IOError, OSError) as err:
        return [], ["label_config %s: cannot read it: %s" % (path, err)]
    except (LabelConfigError, UnicodeDecodeError) as err:
        return [], ["label_config %s: %s" % (path, err)]


def write_bundle(path, by_annotator, names, prefix, texts):
    """Every annotator's tasks in one 0600 file, also in check mode: the import's check reads it.

    path None: in a new private temp dir (removed again if the write fails)."""
    content, projects, tasks = render_bundle(by_annotator, names, prefix, texts)
    made = None
    if path is None:
        made = tempfile.mkdtemp(prefix="study-assign-")  # mode 0700
        path = os.path.join(made, "tasks.json")
    try:
        if made:
            # Lives for one run in a new private dir: no rename, no fsync (16 MB: ~0.1 s less).
            write_new(path, content, PRIVATE_FILE)
        else:
            write_atomic(path, content, PRIVATE_FILE)
    except BaseException:
        if made:
            shutil.rmtree(made, ignore_errors=True)
        raise
    bundle = {"path": path, "projects": projects, "tasks": tasks}
    if made:
        bundle["dir"] = made
    return bundle


def plan_batch(params, check_mode=False, diff=False):
    """(result, warnings) of one run; BatchRefused (every problem, located) before any write."""
    if params["bundle"] and params["bundle_tempdir"]:
        raise BatchRefused("bundle and bundle_tempdir=true are mutually exclusive")
    fields, problems = required_fields(params["label_config"])
    try:
        sheet, reports_by_id, names, study_problems = load_study(
            params["assignments"], params["reports"], params["annotators"], params["key"], fields)
    except StudyDataError as err:
        raise BatchRefused(str(err))
    problems.extend(study_problems)
    batches = []
    if not sheet.problems:
        batches, batch_problems = resolve_batches(sheet, params["batch"])
        problems.extend(batch_problems)
    if not problems:
        problems.extend(task_file_clashes(batches, names))
    if problems:
        raise BatchRefused(format_problems(problems))

    plan = plan_tasks(sheet, reports_by_id, names, batches, params["key"])
    by_annotator = tasks_by_annotator(plan, names, batches)
    result = dict(
        changed=False,
        batches=batches,
        counts=task_counts(plan),
        task_counts=dict((name, len(tasks)) for name, tasks in by_annotator.items()),
    )
    texts = {}  # each task laid out once, for the bundle and the task files (task_texts)
    if params["bundle"] or params["bundle_tempdir"]:
        result["bundle"] = write_bundle(params["bundle"], by_annotator, names,
                                        params["project_prefix"], texts)
    if params["task_files_dir"] and params["stage_task_files"]:
        # Written later, by study_task_files, once the import has succeeded: this step changes
        # nothing that stays (the stage is a temp dir), so it reports no change.
        result["task_files"], result["staged_task_files"] = stage_task_files(
            params["task_files_dir"], plan, names, batches, texts, check_mode)
    elif params["task_files_dir"]:
        files, changed, file_diff = sync_task_files(params["task_files_dir"], plan, names,
                                                    batches, texts, check_mode)
        result["task_files"] = files
        result["changed"] = changed
        if diff and changed:
            result["diff"] = file_diff
    return result, sheet_warnings(sheet)
