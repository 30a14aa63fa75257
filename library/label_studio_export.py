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
  - >-
    With O(bundle), one run exports every project of O(projects) and writes one file for the
    controller: per project its export in O(format) (as text) and its full JSON export with every
    task (parsed), and, with O(users), Label Studio's list of accounts.
  - >-
    With O(bundle), Label Studio is asked for one export per project, the full JSON one; the
    export in O(format) is made from it on the node by Label Studio's own converter, run through
    O(node_command) with the Python Label Studio runs from, exactly as the server makes it (the
    tasks with an annotation, skipped ones included, converted with the project's parsed label
    config), so the file is the same as the server's export of that format. C(export.yml) fetches that one file and builds every table from it (see
    C(study_merge_annotations)). The emails and the study text stay in the file; the module
    returns counts only.
version_added: "1.0.0"
author: Label Studio study automation (@label-studio-study)
extends_documentation_fragment:
  - check_and_diff
  - label_studio_connection
options:
  project:
    description: Exact title of the project. Required unless O(bundle) is given.
    type: str
  dest:
    description: File on the managed node to write. Required unless O(bundle) is given.
    type: path
  bundle:
    description:
      - File on the managed node to write (mode 0600) holding every project of O(projects), see
        above. Mutually exclusive with O(project) and O(dest).
    type: path
  projects:
    description:
      - With O(bundle), the projects to export, as a mapping of the name the bundle gives each
        export (the study's annotator name) to the project's exact title, in the order the
        tables list them.
    type: dict
  node_command:
    description:
      - With O(bundle), the command (a list) that runs the C(label_studio_node) package with the
        Python of Label Studio's environment; C(convert-export) and its arguments (paths only) are
        appended. The label_studio_instance role's
        C(label_studio_node_env + [python] + label_studio_node_run).
    type: list
    elements: str
  users:
    description: With O(bundle), also put Label Studio's list of accounts (C(GET /api/users/)) in it.
    type: bool
    default: false
  format:
    description: Label Studio export type.
    type: str
    choices: [JSON_MIN, JSON, CSV]
    default: JSON_MIN
  download_all_tasks:
    description:
      - Include tasks without annotations (Label Studio exports annotated tasks only by default).
      - Ignored with O(bundle), whose full exports always include every task.
    type: bool
    default: false
  data_dir:
    description: Label Studio's data dir on the node, to remove the export copies it leaves there.
    type: path
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: Export every annotator's project and the accounts in one file for the controller
  label_studio_export:
    bundle: ~/.local/state/label-studio/ls-0123456789/exports/20261127-bundle.json
    projects: {annotator1: "RRS: annotator1", annotator2: "RRS: annotator2"}
    users: true
    node_command: [/usr/bin/env, "PYTHONPATH=/home/me/.local/state/label-studio/ls-0123456789/label_studio_node.zip",
                   /local/work/me/label-studio/env/bin/python, -B, -m, label_studio_node]
    data_dir: /local/work/me/label-studio/data
    token_file: ~/.local/state/label-studio/ls-0123456789/api_token

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
  returned: unless O(bundle) is given
  type: int
tasks:
  description: Number of tasks in the export (JSON formats; rows for CSV).
  returned: unless O(bundle) is given
  type: int
annotations:
  description: Number of annotations in the export (JSON formats).
  returned: unless O(bundle) is given
  type: int
content_sha256:
  description: >-
    sha256 of the export's content; for JSON formats of its canonical form (sorted keys), so
    the same study gives the same value on SQLite and PostgreSQL.
  returned: unless O(bundle) is given
  type: str
dest:
  description: The written file (O(dest) or O(bundle)).
  returned: always
  type: str
projects:
  description: With O(bundle), per project its name, id and the counts of its export in O(format).
  returned: when O(bundle) is given
  type: list
  elements: dict
  sample: [{name: annotator1, project_id: 3, tasks: 12, annotations: 14, content_sha256: 9f2c...}]
user_count:
  description: With O(bundle) and O(users), how many accounts the bundle lists.
  returned: when O(bundle) and O(users) are given
  type: int
"""

import json
import os
import shutil
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.label_studio_client import (CONNECTION_ARGSPEC, CONNECTION_OPTIONS,
                                                      LabelStudioError, client_from_module,
                                                      single_project)
from ansible.module_utils.label_studio_export_count import count_export
from ansible.module_utils.atomic_files import file_differs, write_atomic, write_new
from ansible.module_utils.table_files import neutralize_csv


def export_copies(data_dir, project_id):
    """Files Label Studio's API export leaves in DATA_DIR/export for this project."""
    folder = os.path.join(data_dir, "export")
    prefix = "project-%d-at-" % project_id
    try:
        return {os.path.join(folder, n) for n in os.listdir(folder) if n.startswith(prefix)}
    except OSError:
        return set()


def export(client, project, export_type, download_all_tasks, data_dir):
    """The export's bytes (CSV formulas neutralized), leaving no copy behind in data_dir."""
    before = export_copies(data_dir, project["id"]) if data_dir else set()
    content = client.export(project["id"], export_type, download_all_tasks)
    if export_type == "CSV":
        content = neutralize_csv(content)
    if data_dir:
        for leftover in export_copies(data_dir, project["id"]) - before:
            os.unlink(leftover)
    return content


def converter_config(project):
    """What the server hands its converter: the project's parsed label config (the XML when a
    release does not list it; the converter parses that with the same function)."""
    config = project.get("parsed_label_config") or project.get("label_config")
    if not config:
        raise LabelStudioError("the project listing has no label config")
    return config


def convert_all(module, jobs, export_format):
    """Every project's export in export_format, made from its full export (bytes) by Label
    Studio's own converter on the node, in one run of node_command (see
    label_studio_node/convert_export.py): jobs are [(name, project, full)], the result is the
    converted bytes in the same order. Only paths go in the command line; the files live in a
    private temporary dir next to the bundle."""
    work = tempfile.mkdtemp(prefix=".convert-", dir=os.path.dirname(module.params["bundle"]))
    try:
        listed = []
        for number, (_name, project, full) in enumerate(jobs):
            full_path = os.path.join(work, "%d.full.json" % number)
            write_new(full_path, full)
            listed.append({"name": "project %r" % project["title"], "full": full_path,
                           "config": converter_config(project),
                           "output": os.path.join(work, "%d.out" % number)})
        jobs_path = os.path.join(work, "jobs.json")
        write_new(jobs_path, json.dumps(listed).encode("utf-8"))
        argv = list(module.params["node_command"]) + [
            "convert-export", "--jobs", jobs_path, "--format", export_format]
        rc, _out, err = module.run_command(argv)
        if rc != 0:
            # The command's own last line (its messages name no study text; see convert_export.py).
            raise LabelStudioError("converting the full exports to %s failed: %s"
                                   % (export_format, (err.strip().splitlines() or ["exit %d" % rc])[-1]))
        converted = []
        for job in listed:
            with open(job["output"], "rb") as handle:
                converted.append(handle.read())
        return converted
    finally:
        shutil.rmtree(work, ignore_errors=True)


def export_bundle(module, client):
    """Every project's full export, its export in format made from it (and the accounts) in one
    file; counts returned. Every export is taken before the one conversion run."""
    params = module.params
    listed = client.list_projects(list(params["projects"].values()))
    jobs = []
    for name, title in params["projects"].items():
        try:
            project = single_project(listed, title)
            if project is None:
                raise LabelStudioError("no project is titled exactly %r" % title)
            jobs.append((name, project, export(client, project, "JSON", True, params["data_dir"])))
        except (LabelStudioError, ValueError, OSError) as err:
            module.fail_json(msg="export of project %r: %s" % (title, err))
    try:
        files = convert_all(module, jobs, params["format"])
    except (LabelStudioError, ValueError, OSError) as err:
        module.fail_json(msg=str(err))
    exports, counts = [], []
    for (name, project, full), content in zip(jobs, files):
        if params["format"] == "CSV":
            content = neutralize_csv(content)
        exports.append({"name": name, "project_id": project["id"],
                        "file": content.decode("utf-8"), "full": json.loads(full.decode("utf-8"))})
        counts.append(dict(count_export(content, params["format"]), name=name,
                           project_id=project["id"]))
    bundle = {"exports": exports}
    result = dict(projects=counts, dest=params["bundle"])
    if params["users"]:
        try:
            users = client.list_users()
        except LabelStudioError as err:
            module.fail_json(msg="listing the accounts: %s" % err)
        bundle["users"] = users
        result["user_count"] = len(users)
    content = json.dumps(bundle, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    write_and_exit(module, params["bundle"], content, result)


def write_and_exit(module, path, content, result):
    """Write `content` to `path` (0600) unless it is already there or in check mode; exit with
    `result` and an honest changed. write_atomic compares before it writes, so the file is read
    once outside check mode."""
    try:
        if module.check_mode:
            result["changed"] = file_differs(path, content)
        else:
            result["changed"] = write_atomic(path, content)
    except (IOError, OSError) as err:
        module.fail_json(msg="cannot write %s: %s" % (path, err), **result)
    module.exit_json(**result)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            project=dict(type="str"),
            dest=dict(type="path"),
            bundle=dict(type="path"),
            projects=dict(type="dict"),
            users=dict(type="bool", default=False),
            node_command=dict(type="list", elements="str"),
            format=dict(type="str", default="JSON_MIN", choices=["JSON_MIN", "JSON", "CSV"]),
            download_all_tasks=dict(type="bool", default=False),
            data_dir=dict(type="path"),
            **CONNECTION_ARGSPEC),
        supports_check_mode=True,
        mutually_exclusive=CONNECTION_OPTIONS["mutually_exclusive"] + [
            ("bundle", "project"), ("bundle", "dest")],
        required_one_of=CONNECTION_OPTIONS["required_one_of"] + [("project", "bundle")],
        required_together=[("project", "dest"), ("bundle", "projects"), ("bundle", "node_command")])
    params = module.params
    client = client_from_module(module)
    if params["bundle"]:
        export_bundle(module, client)
    result = dict(changed=False, project_id=None, tasks=0, annotations=0, dest=params["dest"])
    try:
        project = client.find_project(params["project"])
        if project is None:
            raise LabelStudioError("no project is titled exactly %r" % params["project"])
        result["project_id"] = project["id"]
        content = export(client, project, params["format"], params["download_all_tasks"],
                         params["data_dir"])
        result.update(count_export(content, params["format"]))
    except (LabelStudioError, ValueError, OSError) as err:
        module.fail_json(msg="export of project %r: %s" % (params["project"], err), **result)

    write_and_exit(module, params["dest"], content, result)


if __name__ == "__main__":
    main()
