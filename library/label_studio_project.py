#!/usr/bin/python
# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: label_studio_project
short_description: Create, update or delete a Label Studio project found by its exact title
description:
  - Finds the project whose title is exactly O(title). Label Studio's own title filter is a
    substring match and it allows duplicate titles; when two projects share the title the module
    fails and names their ids instead of guessing.
  - Creates the project, or updates its label config and description only where they differ
    (label configs are compared ignoring whitespace between tags).
  - If Label Studio rejects a new label config (for example because existing annotations use a
    control it drops), the module fails with Label Studio's message; nothing was changed.
version_added: "1.0.0"
author: Label Studio study automation (@label-studio-study)
extends_documentation_fragment:
  - label_studio_connection
options:
  title:
    description: Exact project title.
    type: str
    required: true
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
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in diff mode) when in diff mode.
    support: full
"""

EXAMPLES = r"""
- name: One project per annotator
  label_studio_project:
    title: "RRS: annotator1"
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
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.label_studio_client import (CONNECTION_ARGSPEC, CONNECTION_OPTIONS,
                                                      LabelStudioError, client_from_module)
from ansible.module_utils.label_studio_project_plan import plan_project


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


def main():
    module = AnsibleModule(
        argument_spec=dict(
            title=dict(type="str", required=True),
            label_config=dict(type="str"),
            description=dict(type="str"),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            **CONNECTION_ARGSPEC),
        supports_check_mode=True, **CONNECTION_OPTIONS)
    params = module.params
    result = dict(changed=False, project_id=None, created=False, updated_fields=[])
    client = client_from_module(module)
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
        if plan.delete:
            client.delete_project(project["id"])
            result["project_id"] = None
        elif plan.create:
            result["project_id"] = client.create_project(plan.create)["id"]
        else:
            client.update_project(project["id"], plan.update)
    except LabelStudioError as err:
        module.fail_json(msg="project %r: %s" % (params["title"], err), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
