#!/usr/bin/python
# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: label_studio_project
short_description: Create, update or delete Label Studio projects found by their exact titles
description:
  - Finds the project whose title is exactly O(title), or each project of O(titles). Label
    Studio's own title filter is a substring match and it allows duplicate titles; when two
    projects share the title the module fails and names their ids instead of guessing.
  - Creates the project, or updates its label config and description only where they differ
    (label configs are compared ignoring whitespace between tags).
  - If Label Studio rejects a new label config (for example because existing annotations use a
    control it drops), the module fails with Label Studio's message; nothing was changed.
  - With O(titles) every project gets the same O(label_config), O(description) and O(state) in
    one module run that lists the projects once; every title is checked and planned before the
    first write, and a failure names the title.
version_added: "1.0.0"
author: Label Studio study automation (@label-studio-study)
extends_documentation_fragment:
  - check_and_diff
  - label_studio_connection
options:
  title:
    description: Exact project title. One of O(title) and O(titles) is required.
    type: str
  titles:
    description:
      - Exact titles of several projects handled alike (each title once).
      - The results are in RV(projects); the single-project return values then stay empty.
    type: list
    elements: str
  label_config:
    description:
      - Label config as XML text, or the path of an XML file on the managed node.
      - Required when the project has to be created.
    type: str
  description:
    description: Project description. Left as it is when omitted.
    type: str
  state:
    description: Whether the project should exist.
    type: str
    choices: [present, absent]
    default: present
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
"""

EXAMPLES = r"""
- name: One project per annotator
  label_studio_project:
    title: "RRS: annotator1"
    label_config: /home/me/study/label-config.xml
    url: http://127.0.0.1:8080
    token_file: ~/.local/state/label-studio/ls-0123456789/api_token

- name: The same, one module run for all annotators
  label_studio_project:
    titles: ["RRS: annotator1", "RRS: annotator2", "RRS: annotator3"]
    label_config: /home/me/study/label-config.xml
    url: http://127.0.0.1:8080
    token_file: ~/.local/state/label-studio/ls-0123456789/api_token

- name: Remove a project
  label_studio_project:
    title: "RRS: old"
    state: absent
    token_file: ~/.local/state/label-studio/ls-0123456789/api_token
"""

RETURN = r"""
project_id:
  description: Id of the project (null when absent, or when check mode would create it).
  returned: always
  type: int
  sample: 3
created:
  description: Whether the project was (or in check mode would be) created.
  returned: always
  type: bool
updated_fields:
  description: Fields that were (or would be) updated.
  returned: always
  type: list
  elements: str
  sample: [label_config]
projects:
  description: With O(titles), one entry per title, in the order given.
  returned: when O(titles) is given
  type: list
  elements: dict
  contains:
    title:
      description: The project's title.
      type: str
    project_id:
      description: Id of the project (null when absent, or when check mode would create it).
      type: int
    created:
      description: Whether the project was (or in check mode would be) created.
      type: bool
    updated_fields:
      description: Fields that were (or would be) updated.
      type: list
      elements: str
  sample: [{title: "RRS: annotator1", project_id: 3, created: false, updated_fields: []}]
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.label_studio_client import (CONNECTION_ARGSPEC, CONNECTION_OPTIONS,
                                                      LabelStudioError, client_from_module)
from ansible.module_utils.label_studio_project_plan import plan_project, plan_projects, projects_diff


def read_label_config(value):
    """XML text as given, or the content of the file it names."""
    if value is None or value.lstrip().startswith("<"):
        return value
    path = os.path.expanduser(value)
    try:
        with open(path) as handle:
            return handle.read()
    except (IOError, OSError) as err:
        raise LabelStudioError("cannot read the label config %s: %s" % (value, err))


def apply_plan(client, project, plan):
    """Carry out one project's plan; the project's id afterwards (None once deleted)."""
    if plan.delete:
        client.delete_project(project["id"])
        return None
    if plan.create:
        return client.create_project(plan.create)["id"]
    if plan.update:
        client.update_project(project["id"], plan.update)
    return project["id"] if project else None


def run_many(module, client):
    """titles=: one listing, every plan made before the first write."""
    params = module.params
    result = dict(changed=False, project_id=None, created=False, updated_fields=[], projects=[])
    try:
        label_config = read_label_config(params["label_config"])
        plans = plan_projects(client.list_projects(params["titles"]), params["titles"], label_config,
                              params["description"], params["state"])
    except (LabelStudioError, ValueError) as err:
        module.fail_json(msg=str(err), **result)
    result["projects"] = [dict(title=title, project_id=project["id"] if project else None,
                               created=bool(plan.create), updated_fields=sorted(plan.update))
                          for title, project, plan in plans]
    result["changed"] = any(plan.changed for _, _, plan in plans)
    if module._diff:
        result["diff"] = projects_diff(plans)
    if not result["changed"] or module.check_mode:
        module.exit_json(**result)
    for entry, (title, project, plan) in zip(result["projects"], plans):
        if not plan.changed:
            continue
        try:
            entry["project_id"] = apply_plan(client, project, plan)
        except LabelStudioError as err:
            # The projects before this one are done (their entries say so); none after it.
            module.fail_json(msg="project %r: %s" % (title, err), **result)
    module.exit_json(**result)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            title=dict(type="str"),
            titles=dict(type="list", elements="str"),
            label_config=dict(type="str"),
            description=dict(type="str"),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            **CONNECTION_ARGSPEC),
        mutually_exclusive=CONNECTION_OPTIONS["mutually_exclusive"] + [("title", "titles")],
        required_one_of=CONNECTION_OPTIONS["required_one_of"] + [("title", "titles")],
        supports_check_mode=True)
    params = module.params
    client = client_from_module(module)
    if params["titles"] is not None:
        run_many(module, client)
    result = dict(changed=False, project_id=None, created=False, updated_fields=[])
    try:
        label_config = read_label_config(params["label_config"])
        project = client.find_project(params["title"])
        plan = plan_project(project, params["title"], label_config, params["description"],
                            params["state"])
    except (LabelStudioError, ValueError) as err:
        module.fail_json(msg="project %r: %s" % (params["title"], err), **result)

    result.update(project_id=project["id"] if project else None, created=bool(plan.create),
                  updated_fields=sorted(plan.update))
    result["changed"] = plan.changed
    if module._diff:
        result["diff"] = plan.diff
    if not plan.changed or module.check_mode:
        module.exit_json(**result)

    try:
        result["project_id"] = apply_plan(client, project, plan)
    except LabelStudioError as err:
        module.fail_json(msg="project %r: %s" % (params["title"], err), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
