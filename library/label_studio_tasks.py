#!/usr/bin/python
# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: label_studio_tasks
short_description: Import tasks into a Label Studio project idempotently, keyed by a study field
description:
  - Label Studio never de-duplicates imported tasks. This module does, by O(key). Tasks whose key
    is already in the project are not imported again, so re-running an import changes nothing.
  - Every task is validated before the first write (each carries the key, keys are unique, every
    C($field) the project's label config shows is present). On any problem the module fails naming
    the task and field, and imports nothing.
  - With O(purge=true), tasks of the project whose key is not in the list are removed, but only if
    none of them carries an annotation; otherwise the module fails naming them and changes nothing.
  - Keep the study's key in a field other than C(id). Label Studio's JSON_MIN export overwrites a
    data field called C(id) with its own task id.
  - With O(bundle), one run imports into several projects, all or nothing. Every project is found,
    every task validated against its project's label config and every import planned before the
    first task of any project is written (C(playbooks/assign.yml) imports every annotator's tasks
    this way, from one file copied to the node once).
version_added: "1.0.0"
author: Label Studio study automation (@label-studio-study)
extends_documentation_fragment:
  - label_studio_connection
  - study_key
options:
  project:
    description: Exact title of the project. Required unless O(bundle) is given.
    type: str
  tasks:
    description:
      - Tasks, as flat data dicts or wrapped in C(data). Mutually exclusive with O(src).
      - Module arguments are logged to the node's syslog (unless C(no_target_syslog)) and shown
        at C(-vvv); for credentialed text use O(src), a private file, as C(playbooks/assign.yml) does.
    type: list
    elements: dict
  src:
    description: JSON file on the managed node holding the list of tasks (keep it private, C(0600)).
    type: path
  bundle:
    description:
      - JSON file on the managed node holding an object that maps each project's exact title to
        the list of its tasks (keep it private, C(0600)). Mutually exclusive with O(project),
        O(tasks) and O(src).
      - Nothing is imported into any project unless every project exists and every task of every
        project is valid (and, with O(purge), nothing annotated would be removed). The failure
        message names every project with a problem.
    type: path
  bundle_src:
    description:
      - Like O(bundle), but a file on the controller. The module's action plugin
        (C(action_plugins/label_studio_tasks.py)) copies it into the private temp dir Ansible makes
        on the node for this task (C(0700); the copy made C(0600)), runs the module on it with
        O(remove_bundle=true), and removes the temp dir when the task ends, also when it fails.
        One step instead of a copy, an import and a clean-up (C(playbooks/assign.yml) uses it).
      - The controller's file is left as it is unless O(remove_bundle_src). Mutually exclusive
        with O(bundle), O(project), O(tasks) and O(src).
    type: path
  remove_bundle_src:
    description:
      - With O(bundle_src), remove the controller's file, and then its directory if that is
        empty, when the task ends (also when it fails), provided this host is the only one in
        the play's batch (C(ansible_play_batch)); otherwise another host may still need the file
        and the caller removes it. The result's C(bundle_src_removed) says whether it was done.
    type: bool
    default: false
  remove_bundle:
    description:
      - Remove the O(bundle) file as soon as it has been read (or failed to be read), before
        anything else happens, so it is gone whether the run then succeeds or fails; the result's
        C(bundle_removed) says so. The action plugin sets it for O(bundle_src), so the node's copy
        of the study's tasks lives only as long as it is needed.
    type: bool
    default: false
  purge:
    description: Remove tasks whose key is not in the list (never tasks with annotations).
    type: bool
    default: false
  database:
    description:
      - Path of Label Studio's SQLite database on the managed node. When given, the module reads the
        project's existing keys from it read-only (fast) after checking that it agrees with the API's
        task count; otherwise, or if they disagree, it lists the tasks through the API.
    type: path
  chunk_size:
    description: Tasks per import request.
    type: int
    default: 5000
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in diff mode) when in diff mode.
    support: full
"""

EXAMPLES = r"""
- name: Import every annotator's tasks, all or nothing (one file from the controller, one run)
  label_studio_tasks:
    bundle_src: /tmp/study-assign-x1/tasks.json
    database: /local/work/me/label-studio/data/label_studio.sqlite3
    token_file: ~/.local/state/label-studio/ls-0123456789/api_token

- name: Import annotator1's tasks
  label_studio_tasks:
    project: "RRS: annotator1"
    src: /tmp/batch2-annotator1-tasks.json
    key: study_id
    database: /local/work/me/label-studio/data/label_studio.sqlite3
    token_file: ~/.local/state/label-studio/ls-0123456789/api_token
"""

RETURN = r"""
project_id:
  description: Id of the project (C(null) with O(bundle)).
  returned: always
  type: int
added:
  description: Number of tasks imported (or that check mode would import); with O(bundle), in all projects.
  returned: always
  type: int
present:
  description: Number of listed tasks already in the project; with O(bundle), in all projects.
  returned: always
  type: int
removed:
  description: Number of tasks removed by O(purge) (or that check mode would remove); with O(bundle), in all projects.
  returned: always
  type: int
key_source:
  description: Where the existing keys were read (C(database) or C(api); with O(bundle), each source used, comma separated).
  returned: always
  type: str
projects:
  description: With O(bundle), per project in the file's order, its id and counts.
  returned: when O(bundle) is given
  type: list
  elements: dict
  sample: [{project: "RRS: annotator1", project_id: 3, added: 60, present: 10, removed: 0, key_source: database}]
bundle_src_removed:
  description: Whether the O(bundle_src) file and its directory were removed (O(remove_bundle_src)).
  returned: when O(remove_bundle_src) is true and this host is the only one of its batch
  type: bool
bundle_removed:
  description: Whether the O(bundle) file was removed (O(remove_bundle); also set when the run fails).
  returned: when O(remove_bundle) is true
  type: bool
"""

import json
from contextlib import ExitStack

from ansible.module_utils.atomic_files import remove_if_present
from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.label_studio_client import (CONNECTION_ARGSPEC, CONNECTION_OPTIONS,
                                                      LabelStudioError, client_from_module,
                                                      single_project)
from ansible.module_utils.label_studio_config import referenced_fields
from ansible.module_utils.label_studio_lock import project_lock
from ansible.module_utils.label_studio_task_keys import existing_records
from ansible.module_utils.label_studio_task_plan import (ImportRefused, describe_plan, key_of,
                                                         plan_import, task_data, validate_tasks)


# What plan_project reads of a listed project (task_number: existing_records' check).
LISTED_FIELDS = ("id", "title", "label_config", "task_number")


def read_json(path, what):
    try:
        with open(path) as handle:
            return json.load(handle)
    except (IOError, OSError, ValueError) as err:
        raise LabelStudioError("cannot read %s from %s: %s" % (what, path, err))


def load_imports(params):
    """[(project title, tasks)] in the order given: one project, or every project of the bundle."""
    if params["bundle"]:
        bundle = read_json(params["bundle"], "the bundle")
        if not isinstance(bundle, dict) or not all(isinstance(t, list) for t in bundle.values()):
            raise LabelStudioError("%s must hold a JSON object mapping project titles to lists of tasks"
                                   % params["bundle"])
        return list(bundle.items())
    if params["tasks"] is not None:
        return [(params["project"], params["tasks"])]
    tasks = read_json(params["src"], "tasks")
    if not isinstance(tasks, list):
        raise LabelStudioError("%s must hold a JSON list of tasks" % params["src"])
    return [(params["project"], tasks)]


def main():
    module = AnsibleModule(
        argument_spec=dict(
            project=dict(type="str"),
            tasks=dict(type="list", elements="dict"),
            src=dict(type="path"),
            bundle=dict(type="path"),
            bundle_src=dict(type="path"),
            remove_bundle_src=dict(type="bool", default=False),
            remove_bundle=dict(type="bool", default=False),
            key=dict(type="str", default="study_id", no_log=False),
            purge=dict(type="bool", default=False),
            database=dict(type="path"),
            chunk_size=dict(type="int", default=5000),
            **CONNECTION_ARGSPEC),
        supports_check_mode=True,
        mutually_exclusive=CONNECTION_OPTIONS["mutually_exclusive"] + [
            ("tasks", "src", "bundle"), ("project", "bundle")],
        required_one_of=CONNECTION_OPTIONS["required_one_of"] + [("tasks", "src", "bundle")],
        required_by={"tasks": "project", "src": "project"})
    params = module.params
    result = dict(changed=False, project_id=None, added=0, present=0, removed=0, key_source=None)
    if params["bundle_src"]:
        module.fail_json(msg="bundle_src is handled by the action plugin (action_plugins/"
                         "label_studio_tasks.py, enabled in ansible.cfg); give bundle instead")
    imports, problem = None, None
    try:
        imports = load_imports(params)
    except LabelStudioError as err:
        problem = str(err)
    finally:
        # Once read into memory the file is not needed: it goes before any way out (exit_json
        # and fail_json print the result, so the result says so before they run).
        if params["remove_bundle"] and params["bundle"]:
            remove_if_present(params["bundle"])
            result["bundle_removed"] = True
    if problem:
        module.fail_json(msg=problem, **result)
    client = client_from_module(module)
    try:
        # Read the existing keys and import under the projects' locks (taken in one order, so two
        # runs never wait on each other), so no other import slips in between.
        with ExitStack() as locks:
            for title in sorted(set(title for title, _tasks in imports)):
                locks.enter_context(project_lock(params["url"], title))
            run_imports(module, client, imports, result)
    except RuntimeError as err:
        module.fail_json(msg=str(err), **result)
    module.exit_json(**result)


def plan_project(module, client, listed, title, tasks):
    """(project, plan, key source) for one project; ImportRefused says why it cannot be imported."""
    params = module.params
    key = params["key"]
    try:
        project = single_project(listed, title)
        if project is None:
            raise ImportRefused("no project is titled exactly %r (deploy.yml creates one per "
                                "annotator)" % title)
        errors = validate_tasks(tasks, key, referenced_fields(project["label_config"]))
        if errors:
            raise ImportRefused("%d problem(s) in the tasks, nothing imported: %s"
                                % (len(errors), "; ".join(errors[:50])), errors, project["id"])
        # The listing's task_number (counted by the same query as GET /api/projects/ID/) is what
        # the database read is checked against: no GET per project (~0.06 s each).
        records, source = existing_records(client, project, key, params["database"])
    except (LabelStudioError, ValueError) as err:
        raise ImportRefused(str(err))
    plan = plan_import(tasks, records, key, params["purge"])
    if plan.blocked:
        raise ImportRefused("purge would remove %d task(s) that carry annotations (%s %s); nothing "
                            "changed" % (len(plan.blocked), key,
                                         ", ".join(key_of(r["key"]) for r in plan.blocked[:50])),
                            project_id=project["id"])
    return project, plan, source


def run_imports(module, client, imports, result):
    params = module.params
    key = params["key"]
    planned, refused = [], []
    try:
        # Listed once for every project: Label Studio computes each project's counts in a listing,
        # so only the projects whose title holds the titles' common start (titles still matched
        # exactly by single_project; the filter only leaves out projects that cannot match).
        # Only the fields used here are asked for (1.23 leaves out what `include` does not name:
        # include=task_number alone once left the titles out, so no project was found).
        listed = client.list_projects([title for title, _tasks in imports], fields=LISTED_FIELDS)
    except LabelStudioError as err:
        module.fail_json(msg=str(err), **result)
    # Every project is checked and planned before the first task of any is written.
    for title, tasks in imports:
        try:
            planned.append((title,) + plan_project(module, client, listed, title, tasks))
        except ImportRefused as err:
            refused.append((title, err))
    if refused:
        message = "; ".join("project %r: %s" % (title, err) for title, err in refused)
        if params["bundle"]:
            message = "%d of %d project(s) refused, nothing imported into any: %s" % (
                len(refused), len(imports), message)
        else:
            result["project_id"] = refused[0][1].project_id
        errors = [error for _title, err in refused for error in err.errors]
        module.fail_json(msg=message, **(dict(result, errors=errors) if errors else result))

    per_project = []
    for title, project, plan, source in planned:
        per_project.append(dict(plan.counts(), project=title, project_id=project["id"],
                                key_source=source))
        if plan.duplicates:
            module.warn("project %r holds several tasks with the same %s: %s"
                        % (title, key, ", ".join(plan.duplicates[:20])))
    for name in ("added", "present", "removed"):
        result[name] = sum(item[name] for item in per_project)
    result["changed"] = any(plan.changed for _t, _p, plan, _s in planned)
    result["key_source"] = ",".join(sorted(set(item["key_source"] for item in per_project))) or None
    if params["bundle"]:
        result["projects"] = per_project
    elif per_project:
        result["project_id"] = per_project[0]["project_id"]
    if module._diff:
        result["diff"] = [{"before_header": title, "after_header": title,
                           "prepared": describe_plan(plan, key)} for title, _p, plan, _s in planned
                          if plan.changed or not params["bundle"]]
        if not params["bundle"]:
            result["diff"] = result["diff"][0]
    if not result["changed"] or module.check_mode:
        return
    size = max(1, params["chunk_size"])
    for title, project, plan, _source in planned:
        try:
            for start in range(0, len(plan.add), size):
                client.import_tasks(project["id"], plan.add[start:start + size])
            for record in plan.remove:
                client.delete_task(record["id"])
        except LabelStudioError as err:
            module.fail_json(msg="project %r: %s (re-run to finish: tasks already imported are "
                             "recognised by %s)" % (title, err, key), **result)


if __name__ == "__main__":
    main()
