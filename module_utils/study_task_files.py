# -*- coding: utf-8 -*-
"""The controller's task files ({batch}-{annotator}-tasks.json): the study's record of what each
annotator was given, written only when their content changes.

Two ways to write them:
- at once (study_batch_tasks with task_files_dir alone): sync_task_files();
- after the import (playbooks/assign.yml): study_batch_tasks stages the files that would change
  in a private temp dir (stage_task_files), and study_task_files puts them in place once every
  annotator's import has succeeded (publish_task_files). A refused import then leaves the record
  as it was: it never lists tasks that Label Studio does not hold.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import shutil
import tempfile

from ansible.module_utils.atomic_files import remove_if_present, write_new
from ansible.module_utils.study_assignment_plan import render_task_file, task_file_path
from ansible.module_utils.study_outputs import PRIVATE_FILE, PrivateOutputs

STAGE_PREFIX = "study-task-files-"

PUBLISH_ARGUMENT_SPEC = dict(
    staged=dict(type="dict", required=True),
)


class TaskFilesRefused(Exception):
    """The staged files cannot be put in place; nothing was written."""


def existing_task_count(path):
    """Tasks in an existing task file, for the diff (None when absent or unreadable)."""
    try:
        with open(path, "rb") as handle:
            return len(json.loads(handle.read().decode("utf-8")))
    except (IOError, OSError, ValueError, TypeError):
        return None


def planned_task_files(directory, plan, names, batches, texts):
    """(PrivateOutputs of the requested batches' files, [(path, count)], whether they change, diff
    of those that differ).

    texts: the layout cache shared with the bundle (a report given to several annotators is one
    task object: laid out once, for the files and the bundle together)."""
    files = []
    for batch in batches:
        for name in names:
            tasks = plan[batch][name]
            if tasks:
                files.append((task_file_path(directory, batch, name), len(tasks),
                              render_task_file(tasks, texts).encode("utf-8")))
    outputs = PrivateOutputs(directory, [(path, content) for path, _count, content in files])
    before = []
    after = []
    for (path, count, _content), differs in zip(files, outputs.differs):
        if differs:
            old = existing_task_count(path)
            before.append("%s: %s\n" % (path, "absent" if old is None else "%d tasks" % old))
            after.append("%s: %d tasks\n" % (path, count))
    diff = {"before": "".join(before), "after": "".join(after),
            "before_header": directory, "after_header": directory}
    return (outputs, [(path, count) for path, count, _content in files],
            bool(files) and outputs.changed, diff)


def listed(outputs, counts):
    """The result's task_files: each file, its tasks, whether it changes (or would)."""
    return [{"path": path, "tasks": count, "changed": differs}
            for (path, count), differs in zip(counts, outputs.differs)]


def sync_task_files(directory, plan, names, batches, texts, check_mode):
    """Write the changed task files now (not in check mode); return (task_files, changed, diff)."""
    outputs, counts, changed, diff = planned_task_files(directory, plan, names, batches, texts)
    if changed and not check_mode:
        # Together: every changed file staged and fsynced before the first rename (a full disk
        # leaves the old set, not a mix), and the directory fsynced once, not once per file.
        outputs.write()
    return listed(outputs, counts), changed, diff


def stage_task_files(directory, plan, names, batches, texts, check_mode):
    """Stage the task files that would change for publish_task_files; return (task_files, staged).

    staged: {directory, stage (a new private temp dir holding them, None when nothing is staged:
    in check mode, or when nothing changes), files (their names), changed, diff}. Only paths,
    names and counts: it travels as a task result and a module argument."""
    outputs, counts, changed, diff = planned_task_files(directory, plan, names, batches, texts)
    differing = [(os.path.basename(path), data) for (path, data), differs
                 in zip(outputs.files, outputs.differs) if differs]
    stage = None
    if changed and not check_mode:
        stage = tempfile.mkdtemp(prefix=STAGE_PREFIX)  # mode 0700
        try:
            for name, data in differing:
                # Lives until the import is done, in a new private dir: no rename, no fsync.
                write_new(os.path.join(stage, name), data, PRIVATE_FILE)
        except BaseException:
            shutil.rmtree(stage, ignore_errors=True)
            raise
    staged = {"directory": directory, "stage": stage, "files": [name for name, _data in differing],
              "changed": changed, "diff": diff}
    return listed(outputs, counts), staged


def _staged_names(staged):
    """The staged file names, refused unless each is a plain task file name (no path)."""
    names = staged.get("files") or []
    for name in names:
        if (not isinstance(name, str) or name != os.path.basename(name) or name.startswith(".")
                or not name.endswith("-tasks.json")):
            raise TaskFilesRefused("staged: %r is not a task file name" % (name,))
    return names


def _stage_of(staged):
    """The stage dir, refused unless it is one stage_task_files made (it is emptied and removed)."""
    stage = staged.get("stage")
    if stage is not None and (not isinstance(stage, str) or not os.path.isabs(stage)
                              or not os.path.basename(stage).startswith(STAGE_PREFIX)):
        raise TaskFilesRefused("staged: %r is not a stage made by study_batch_tasks" % (stage,))
    return stage


def _remove_stage(stage, names):
    """The staged files, then the stage itself: only what stage_task_files put there."""
    for name in names:
        remove_if_present(os.path.join(stage, name))
    try:
        os.rmdir(stage)
    except OSError:
        return False
    return True


def publish_task_files(params, check_mode=False, diff=False):
    """(result, warnings): the staged task files put in place (atomically, 0600 in a 0700 dir,
    only those whose content differs), and the stage removed. In check mode only what would
    change (stage_task_files staged nothing then); without a stage, nothing to do."""
    staged = params["staged"]
    directory = staged.get("directory")
    if not directory or not os.path.isabs(directory):
        raise TaskFilesRefused("staged: directory must be an absolute path, got %r" % (directory,))
    names = _staged_names(staged)
    stage = _stage_of(staged)
    result = {"changed": bool(staged.get("changed")), "directory": directory}
    if not check_mode:
        if stage is None:
            result["changed"] = False  # the plan found nothing to change
        else:
            files = []
            for name in names:
                try:
                    with open(os.path.join(stage, name), "rb") as handle:
                        files.append((os.path.join(directory, name), handle.read()))
                except (IOError, OSError) as err:
                    raise TaskFilesRefused("staged task file %s: cannot read it: %s" % (name, err))
            outputs = PrivateOutputs(directory, files)
            result["changed"] = outputs.changed
            if outputs.changed:
                try:
                    outputs.write()
                except OSError as err:
                    raise TaskFilesRefused("task files dir %s: %s" % (directory, err))
            result["stage_removed"] = _remove_stage(stage, names)
    if diff and result["changed"]:
        result["diff"] = staged.get("diff") or {}
    return result, []
