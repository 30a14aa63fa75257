#!/usr/bin/python
# -*- coding: utf-8 -*-
"""Ansible module: copy a file that holds study text, private from its first byte."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: study_private_copy
short_description: Copy a file holding study text into place, mode 0600 from its first byte
description:
  - Copies O(src) to O(dest) on the host it runs on (the controller, delegated to C(localhost)),
    through a temporary file in the destination directory that is created with mode C(0600)
    before any byte is written, then renamed over O(dest).
  - M(ansible.builtin.copy) creates a new file with the umask's mode and tightens it afterwards;
    with a umask of C(022) a new export is readable by other accounts for a moment. This module
    never is.
  - O(dest) is only rewritten (and C(changed) only true) when its content or mode differs, so a
    re-run keeps its modification time.
version_added: "1.0.0"
author: Label Studio study automation (@label-studio-study)
options:
  src:
    description: File to copy.
    type: path
    required: true
  dest:
    description: Where to put it (its directory must exist).
    type: path
    required: true
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in diff mode) when in diff mode.
    support: none
notes:
  - The content is never returned or shown (it is report text).
seealso:
  - module: study_merge_annotations
"""

EXAMPLES = r"""
- name: Put annotator1's export in place
  study_private_copy:
    src: exports/.incoming/node1/20261127-annotator1.json
    dest: exports/20261127-annotator1.json
  delegate_to: localhost
"""

RETURN = r"""
dest:
  description: The destination file.
  returned: always
  type: str
size:
  description: Bytes copied.
  returned: success
  type: int
"""

from ansible.module_utils.atomic_files import file_differs, write_atomic
from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(
        argument_spec=dict(src=dict(type="path", required=True), dest=dict(type="path", required=True)),
        supports_check_mode=True)
    src, dest = module.params["src"], module.params["dest"]
    try:
        with open(src, "rb") as handle:
            content = handle.read()
    except (IOError, OSError) as err:
        module.fail_json(msg="cannot read %s: %s" % (src, err), dest=dest)
    changed = file_differs(dest, content)
    if changed and not module.check_mode:
        try:
            write_atomic(dest, content)
        except (IOError, OSError) as err:
            module.fail_json(msg="cannot write %s: %s" % (dest, err), dest=dest)
    module.exit_json(changed=changed, dest=dest, size=len(content))


if __name__ == "__main__":
    main()
