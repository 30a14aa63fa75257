#!/usr/bin/python
# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: label_studio_progress
short_description: Report the study's progress per batch and annotator (read-only)
description:
  - Reads every annotator's project and counts, per batch and annotator, the tasks assigned,
    annotated (at least one submitted annotation), skipped (only skipped annotations) and
    remaining, and per batch the reports with at least two finished annotations (the overlap
    agreement can be computed on). Never changes anything.
version_added: "1.0.0"
author: Label Studio study automation (@label-studio-study)
extends_documentation_fragment:
  - check_and_diff
  - label_studio_connection
  - study_key
options:
  annotators:
    description: The study's annotators, names or dicts with a C(name).
    type: list
    elements: raw
    required: true
  project_prefix:
    description: Project title = prefix + annotator name.
    type: str
    default: "RRS: "
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: Progress of the study
  label_studio_progress:
    annotators: [annotator1, annotator2]
    project_prefix: "RRS: "
    token_file: ~/.local/state/label-studio/ls-0123456789/api_token
  register: progress
"""

RETURN = r"""
rows:
  description: One row per batch and annotator.
  returned: always
  type: list
  elements: dict
  sample: [{batch: batch2, annotator: annotator1, assigned: 50, annotated: 20, skipped: 1, remaining: 29}]
overlap:
  description: Per batch, reports with at least two finished annotations.
  returned: always
  type: dict
  sample: {batch2: 12}
table:
  description: The same as text lines, for printing.
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.label_studio_client import (CONNECTION_ARGSPEC, CONNECTION_OPTIONS,
                                                      LabelStudioError, client_from_module,
                                                      single_project)
from ansible.module_utils.study_validation import annotator_names
from ansible.module_utils.study_progress import format_table, progress_table


def main():
    module = AnsibleModule(
        argument_spec=dict(annotators=dict(type="list", elements="raw", required=True),
                           project_prefix=dict(type="str", default="RRS: "),
                           key=dict(type="str", default="study_id", no_log=False),
                           **CONNECTION_ARGSPEC),
        supports_check_mode=True, **CONNECTION_OPTIONS)
    names, problems = annotator_names(module.params["annotators"])
    if problems:
        module.fail_json(msg="; ".join(problems))
    client = client_from_module(module)
    tasks_by_annotator = {}
    try:
        projects = client.list_projects()
        for annotator in names:
            title = module.params["project_prefix"] + annotator
            project = single_project(projects, title)
            if project is None:
                raise LabelStudioError("no project is titled exactly %r (annotator %s)" % (title, annotator))
            tasks_by_annotator[annotator] = client.list_tasks(project["id"])
    except LabelStudioError as err:
        module.fail_json(msg=str(err))
    rows, overlap = progress_table(tasks_by_annotator, module.params["key"])
    module.exit_json(changed=False, rows=rows, overlap=overlap, table=format_table(rows, overlap))


if __name__ == "__main__":
    main()
