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
version_added: "1.0.0"
author: Label Studio study automation (@label-studio-study)
extends_documentation_fragment:
  - label_studio_connection
options:
  project:
    description: Exact title of the project.
    type: str
    required: true
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
  key:
    description: Task data field identifying a task within the project.
    type: str
    default: study_id
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
  description: Id of the project.
  returned: always
  type: int
added:
  description: Number of tasks imported (or that check mode would import).
  returned: always
  type: int
present:
  description: Number of listed tasks already in the project.
  returned: always
  type: int
removed:
  description: Number of tasks removed by O(purge) (or that check mode would remove).
  returned: always
  type: int
key_source:
  description: Where the existing keys were read (C(database) or C(api)).
  returned: always
  type: str
"""

import json

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.label_studio_client import (CONNECTION_ARGSPEC, CONNECTION_OPTIONS,
                                                      LabelStudioError, client_from_module)
from ansible.module_utils.label_studio_config import referenced_fields
from ansible.module_utils.label_studio_lock import project_lock
from ansible.module_utils.label_studio_task_keys import existing_records
from ansible.module_utils.label_studio_task_plan import (key_of, plan_import, task_data,
                                                         validate_tasks)


def load_tasks(params):
    if params["tasks"] is not None:
        return params["tasks"]
    try:
        with open(params["src"]) as handle:
            tasks = json.load(handle)
    except (IOError, OSError, ValueError) as err:
        raise LabelStudioError("cannot read tasks from %s: %s" % (params["src"], err))
    if not isinstance(tasks, list):
        raise LabelStudioError("%s must hold a JSON list of tasks" % params["src"])
    return tasks


def describe(plan, key):
    """Diff text: what the import adds and removes, named by key."""
    def keys(items, limit=20):
        shown = ", ".join(items[:limit])
        return shown + (" ... (%d more)" % (len(items) - limit) if len(items) > limit else "")
    lines = []
    if plan.add:
        lines.append("+ %d task(s): %s %s" % (len(plan.add), key,
                                              keys([key_of(task_data(t)[key]) for t in plan.add])))
    if plan.remove:
        lines.append("- %d task(s): %s %s" % (len(plan.remove), key,
                                              keys([key_of(r["key"]) for r in plan.remove])))
    lines.append("= %d task(s) already present" % len(plan.present))
    return "\n".join(lines) + "\n"


def main():
    module = AnsibleModule(
        argument_spec=dict(
            project=dict(type="str", required=True),
            tasks=dict(type="list", elements="dict"),
            src=dict(type="path"),
            key=dict(type="str", default="study_id", no_log=False),
            purge=dict(type="bool", default=False),
            database=dict(type="path"),
            chunk_size=dict(type="int", default=5000),
            **CONNECTION_ARGSPEC),
        supports_check_mode=True,
        mutually_exclusive=CONNECTION_OPTIONS["mutually_exclusive"] + [("tasks", "src")],
        required_one_of=CONNECTION_OPTIONS["required_one_of"] + [("tasks", "src")])
    params = module.params
    result = dict(changed=False, project_id=None, added=0, present=0, removed=0, key_source=None)
    client = client_from_module(module)
    try:
        # Read the existing keys and import under one lock, so no other import slips in between.
        with project_lock(params["url"], params["project"]):
            import_tasks(module, client, result)
    except RuntimeError as err:
        module.fail_json(msg=str(err), **result)
    module.exit_json(**result)


def import_tasks(module, client, result):
    params = module.params
    key = params["key"]
    try:
        tasks = load_tasks(params)
        project = client.find_project(params["project"])
        if project is None:
            raise LabelStudioError("no project is titled exactly %r (deploy.yml creates one per "
                                   "annotator)" % params["project"])
        result["project_id"] = project["id"]
        errors = validate_tasks(tasks, key, referenced_fields(project["label_config"]))
        if errors:
            module.fail_json(msg="project %r: %d problem(s) in the tasks, nothing imported: %s"
                             % (params["project"], len(errors), "; ".join(errors[:50])),
                             errors=errors, **result)
        # The listing carries task_number, which the database read is checked against.
        project = client.get_project(project["id"])
        records, result["key_source"] = existing_records(client, project, key, params["database"])
    except (LabelStudioError, ValueError) as err:
        module.fail_json(msg="project %r: %s" % (params["project"], err), **result)

    plan = plan_import(tasks, records, key, params["purge"])
    if plan.blocked:
        module.fail_json(msg="project %r: purge would remove %d task(s) that carry annotations "
                         "(%s %s); nothing changed" % (params["project"], len(plan.blocked), key,
                                                       ", ".join(key_of(r["key"]) for r in plan.blocked[:50])),
                         **result)
    result.update(plan.counts(), changed=plan.changed)
    if plan.duplicates:
        module.warn("project %r holds several tasks with the same %s: %s"
                    % (params["project"], key, ", ".join(plan.duplicates[:20])))
    if module._diff:
        result["diff"] = {"before_header": params["project"], "after_header": params["project"],
                          "prepared": describe(plan, key)}
    if not plan.changed or module.check_mode:
        return
    try:
        size = max(1, params["chunk_size"])
        for start in range(0, len(plan.add), size):
            client.import_tasks(project["id"], plan.add[start:start + size])
        for record in plan.remove:
            client.delete_task(record["id"])
    except LabelStudioError as err:
        module.fail_json(msg="project %r: %s (re-run to finish: tasks already imported are "
                         "recognised by %s)" % (params["project"], err, key), **result)


if __name__ == "__main__":
    main()
