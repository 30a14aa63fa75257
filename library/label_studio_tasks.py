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
  - On the local connection without become (the default inventory) the action plugin does the
    module's work in Ansible's own process, with the same options, checks, check mode, diff and
    result, and without a module run (its payload and interpreter) or a copy of the tasks. On any
    other node the module runs there.
version_added: "1.0.0"
author: Label Studio study automation (@label-studio-study)
extends_documentation_fragment:
  - check_and_diff
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
      - On the local connection (the node is the controller's own account) nothing is copied;
        the file is read where it is.
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
  node_command:
    description:
      - For a PostgreSQL database. The command line, on the managed node, that runs the
        instance's node package (label_studio_node) with Label Studio's Python and the service's
        environment (its with-service-env script first, so the database password stays out of
        every argv). When given, the module runs its C(task-keys) command once for every project
        to read the existing keys read-only, and checks them against the API's task counts as
        with O(database). If the command fails, or they disagree, it lists the tasks through the
        API.
      - Mutually exclusive with O(database).
    type: list
    elements: str
  chunk_size:
    description: Tasks per import request.
    type: int
    default: 5000
attributes:
  check_mode:
    support: full
  diff_mode:
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

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.label_studio_task_import import (ARGUMENT_RULES, ARGUMENT_SPEC, ImportFailed,
                                                           run_import)


def main():
    # On a local connection the action plugin (action_plugins/label_studio_tasks.py) calls
    # run_import in Ansible's own process; this runs on every other node.
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True, **ARGUMENT_RULES)
    try:
        result, warnings = run_import(module.params, module.check_mode, module._diff)
    except ImportFailed as err:
        module.fail_json(msg=err.msg, **err.result)
    for warning in warnings:
        module.warn(warning)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
