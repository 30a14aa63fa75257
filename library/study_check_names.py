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
from ansible.module_utils.label_studio_user_plan import check_email
from ansible.module_utils.study_names import fold, name_problem, same_ignoring_case


def annotator_problems(names, emails):
    """Every problem of the names and emails, each naming the entry (never an email)."""
    problems = []
    for position, name in enumerate(names, start=1):
        if not isinstance(name, str) or not name.strip():
            problems.append("study_annotators item %d: no name" % position)
            continue
        problem = name_problem(name, "annotator")
        if problem:
            problems.append("study_annotators item %d: %s" % (position, problem))
    positions = dict((name, position) for position, name in reversed(list(enumerate(names, 1))))
    for name, earlier in same_ignoring_case(names):
        problems.append("study_annotators item %d: '%s' differs from item %d '%s' only in case "
                        "(their files would be one on a case-insensitive file system)"
                        % (positions[name], name, positions[earlier], earlier))
    seen = {}
    for position, name in enumerate(names, start=1):
        if position > len(emails) or emails[position - 1] is None:
            continue
        who = "study_annotators item %d (%s)" % (position, name)
        try:
            address = check_email(str(emails[position - 1]))
        except ValueError:
            problems.append("%s: the email is not an email address" % who)
            continue
        key = fold(address)
        if key in seen:
            problems.append("%s: has the same email as item %d (compared case-insensitively); "
                            "each person gets exactly one account" % (who, seen[key]))
        seen.setdefault(key, position)
    return problems


def main():
    module = AnsibleModule(
        argument_spec=dict(
            annotators=dict(type="list", elements="raw", required=True),
            emails=dict(type="list", elements="raw", default=[], no_log=True),
        ),
        supports_check_mode=True,
    )
    names = module.params["annotators"]
    problems = annotator_problems(names, module.params["emails"])
    if not names:
        problems.append("study_annotators: the list is empty")
    if problems:
        module.fail_json(msg="%d problem%s with study_annotators (nothing was written):\n- %s" % (
            len(problems), "" if len(problems) == 1 else "s", "\n- ".join(problems)))
    module.exit_json(changed=False, names=names)


if __name__ == "__main__":
    main()
