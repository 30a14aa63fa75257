#!/usr/bin/python
# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: label_studio_export
short_description: Export one Label Studio project to a file on the node, atomically
description:
  - Exports the project found by its exact title in JSON_MIN (default), JSON or CSV through the API
    and writes it to O(dest) via a temp file and a rename, mode 0600. The file is only rewritten
    (and C(changed) only true) when the content differs.
  - Label Studio keeps a copy of every API export under its data dir's C(export/) folder; given
    O(data_dir), the module removes the copies this export created, so they do not pile up.
  - >-
    In C(CSV) format, every cell a spreadsheet program would run as a formula (annotators' free
    text or report text starting with C(=), C(+), C(-), C(@), a tab or a carriage return) gets a
    leading C(') as OWASP's CSV injection guidance says; the JSON formats keep the exact text.
version_added: "1.0.0"
author: Label Studio study automation (@label-studio-study)
extends_documentation_fragment:
  - label_studio_connection
options:
  project:
    description: Exact title of the project.
    type: str
    required: true
  dest:
    description: File on the managed node to write.
    type: path
    required: true
  format:
    description: Label Studio export type.
    type: str
    choices: [JSON_MIN, JSON, CSV]
    default: JSON_MIN
  download_all_tasks:
    description: Include tasks without annotations (Label Studio exports annotated tasks only by default).
    type: bool
    default: false
  data_dir:
    description: Label Studio's data dir on the node, to remove the export copies it leaves there.
    type: path
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in diff mode) when in diff mode.
    support: none
"""

EXAMPLES = r"""
- name: Export annotator1's annotations
  label_studio_export:
    project: "RRS: annotator1"
    dest: /local/work/me/exports/20261127-annotator1.json
    data_dir: /local/work/me/label-studio/data
    token_file: ~/.local/state/label-studio/ls-0123456789/api_token
"""

RETURN = r"""
project_id:
  description: Id of the exported project.
  returned: always
  type: int
tasks:
  description: Number of tasks in the export (JSON formats; rows for CSV).
  returned: always
  type: int
annotations:
  description: Number of annotations in the export (JSON formats).
  returned: always
  type: int
content_sha256:
  description: >-
    sha256 of the export's content; for JSON formats of its canonical form (sorted keys), so
    the same study gives the same value on SQLite and PostgreSQL.
  returned: success
  type: str
dest:
  description: The written file.
  returned: always
  type: str
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.label_studio_client import (CONNECTION_ARGSPEC, CONNECTION_OPTIONS,
                                                      LabelStudioError, client_from_module)
from ansible.module_utils.label_studio_export_count import count_export
from ansible.module_utils.atomic_files import file_differs, write_atomic
from ansible.module_utils.table_files import neutralize_csv


def export_copies(data_dir, project_id):
    """Files Label Studio's API export leaves in DATA_DIR/export for this project."""
    folder = os.path.join(data_dir, "export")
    prefix = "project-%d-at-" % project_id
    try:
        return {os.path.join(folder, n) for n in os.listdir(folder) if n.startswith(prefix)}
    except OSError:
        return set()


def main():
    module = AnsibleModule(
        argument_spec=dict(
            project=dict(type="str", required=True),
            dest=dict(type="path", required=True),
            format=dict(type="str", default="JSON_MIN", choices=["JSON_MIN", "JSON", "CSV"]),
            download_all_tasks=dict(type="bool", default=False),
            data_dir=dict(type="path"),
            **CONNECTION_ARGSPEC),
        supports_check_mode=True, **CONNECTION_OPTIONS)
    params = module.params
    result = dict(changed=False, project_id=None, tasks=0, annotations=0, dest=params["dest"])
    client = client_from_module(module)
    try:
        project = client.find_project(params["project"])
        if project is None:
            raise LabelStudioError("no project is titled exactly %r" % params["project"])
        result["project_id"] = project["id"]
        before = export_copies(params["data_dir"], project["id"]) if params["data_dir"] else set()
        content = client.export(project["id"], params["format"], params["download_all_tasks"])
        if params["format"] == "CSV":
            content = neutralize_csv(content)
        if params["data_dir"]:
            for leftover in export_copies(params["data_dir"], project["id"]) - before:
                os.unlink(leftover)
        result.update(count_export(content, params["format"]))
    except (LabelStudioError, ValueError, OSError) as err:
        module.fail_json(msg="export of project %r: %s" % (params["project"], err), **result)

    result["changed"] = file_differs(params["dest"], content)
    if result["changed"] and not module.check_mode:
        try:
            write_atomic(params["dest"], content)
        except (IOError, OSError) as err:
            module.fail_json(msg="cannot write %s: %s" % (params["dest"], err), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
