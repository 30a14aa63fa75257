#!/usr/bin/python
# -*- coding: utf-8 -*-
"""Ansible module: refuse annotator names (and emails) that are unsafe, before anything is written."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: study_check_names
short_description: Check the study's annotator names (and emails) before anything is written
description:
  - Checks every annotator name against the study's safe pattern (module_utils/study_names.py,
    described in the README), that is letters of any script, digits, spaces, C(.), C(_) and C(-); not
    starting with C(.), no space at either end, at most 100 bytes; not C(all), C(users),
    C(annotations), C(unannotated) nor ending in C(.full), ignoring case; no two names equal
    ignoring case. Names become parts of file names (task files, exports, password files).
  - Checks the emails given in O(emails) (a plausible address; no address twice, compared
    case-insensitively).
  - Reports every problem at once, each naming the C(study_annotators) entry by position and
    name, and fails. Changes nothing; run it first in a play, on the controller.
  - Its action plugin (action_plugins/controller_step.py) runs the check in Ansible's own
    process on the controller, which saves starting a module; the module itself runs only where
    that plugin is not configured.
version_added: "1.0.0"
author:
  - Label Studio study automation (@label-studio-study)
options:
  annotators:
    description:
      - The annotators' names, in the order of C(study_annotators) (C(study_annotator_names)).
        An entry that is not text (e.g. a dict without C(name)) is reported as having no name.
    type: list
    elements: raw
    required: true
  emails:
    description:
      - The annotators' emails, position by position with O(annotators); null where an
        annotator has none (C(study_annotator_emails)).
      - Declared C(no_log), so the addresses never reach the node's syslog nor Ansible's output;
        messages name the annotator instead.
    type: list
    elements: raw
    default: []
attributes:
  check_mode:
    description: Checks the same way; there is nothing to write.
    support: full
  diff_mode:
    description: There is no diff; the module changes nothing.
    support: none
seealso:
  - module: study_batch_tasks
"""

EXAMPLES = r"""
- name: Check the annotators' names before anything is written
  study_check_names:
    annotators: "{{ study_annotator_names }}"
    emails: "{{ study_annotator_emails }}"
  delegate_to: localhost
  run_once: true
"""

RETURN = r"""
names:
  description: The annotators' names, checked.
  returned: success
  type: list
  elements: str
  sample: [annotator1, annotator2]
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.study_annotator_check import ARGUMENT_SPEC, NamesRefused, check_annotators


def main():
    # The action plugin (action_plugins/controller_step.py) runs check_annotators in the
    # controller's own process; this runs where no action plugin is configured.
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    try:
        names = check_annotators(module.params)
    except NamesRefused as err:
        module.fail_json(msg=str(err))
    module.exit_json(changed=False, names=names)


if __name__ == "__main__":
    main()
