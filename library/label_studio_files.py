#!/usr/bin/python
# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: label_studio_files
short_description: Make a role's dirs and files on the node as wanted, in one run
description:
  - Creates the directories (with the parents they lack, each with the dir's mode) or corrects
    their mode, writes every file whose text or mode differs, and removes the files that must be
    absent, all in one module run. A C(copy) or C(template) task is two module runs per file.
  - The texts never travel as module arguments, which Ansible logs on the node and shows with -v.
    The action plugin of the same name takes them on the controller, copies them into the task's
    private temp dir on the node and passes their paths as O(files[].src).
  - New texts are staged beside their files and renamed into place together, after the
    directories exist; a file is never readable with another mode than its own, not even briefly.
  - On the local connection without become (the default inventory) the action plugin does the
    module's work in Ansible's own process, from the texts in memory, with the same options,
    checks, check mode, diff and result; no copy is made and no module is started. On any other
    node the module runs there.
version_added: "1.0.0"
author: Label Studio study automation (@label-studio-study)
extends_documentation_fragment:
  - check_and_diff
options:
  dirs:
    description: Directories that must exist with O(dirs[].mode).
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Absolute path of the directory.
        type: path
        required: true
      mode:
        description: Its mode, an octal string such as C('0700').
        type: str
        required: true
  files:
    description:
      - Files that must hold a text with a mode. In a playbook give O(files[].content) or
        O(files[].content_base64) (the action plugin turns it into O(files[].src)).
    type: list
    elements: dict
    default: []
    suboptions:
      dest:
        description: Absolute path of the file on the node. Its directory must exist or be in O(dirs).
        type: path
        required: true
      src:
        description: The node's copy of the wanted text (set by the action plugin).
        type: path
      content:
        description: The wanted text (rendered on the controller; never passed to the module).
        type: str
      content_base64:
        description: The wanted bytes, base64-encoded (e.g. a zip; never passed to the module).
        type: str
      mode:
        description: The file's mode, an octal string such as C('0600').
        type: str
        required: true
      secret:
        description: Never show the text in a diff (only that the file changes).
        type: bool
        default: false
  absent:
    description: Files that must not exist (a directory there is an error, never removed).
    type: list
    elements: path
    default: []
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: One diff per changed path; a secret file's text is never shown.
notes:
  - Used by the roles after their one file probe (label_studio_file_probe) has said which paths
    differ, so a no-change run skips the task entirely.
"""

EXAMPLES = r"""
- name: Create the private dirs and write the service's scripts
  label_studio_files:
    dirs:
      - {path: ~/.local/state/label-studio/ls-0123456789, mode: "0700"}
    files:
      - dest: ~/.local/state/label-studio/ls-0123456789/run-label-studio
        content: "{{ lookup('ansible.builtin.template', 'run-label-studio.j2') }}"
        mode: "0700"
      - dest: ~/.local/state/label-studio/ls-0123456789/launch-label-studio
        content: "{{ lookup('ansible.builtin.file', 'launch-label-studio.py', rstrip=false) }}"
        mode: "0700"
    absent:
      - ~/.local/state/label-studio/ls-0123456789/supervisord.d/postgresql.conf
"""

RETURN = r"""
dirs:
  description: The directories made or given their mode.
  returned: always
  type: list
  elements: str
files:
  description: The files written or given their mode.
  returned: always
  type: list
  elements: str
absent:
  description: The files removed.
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.file_set import ARGUMENT_SPEC, FileSetError, make_file_set


def main():
    # On a local connection the action plugin (action_plugins/label_studio_files.py) calls
    # make_file_set in Ansible's own process; this runs on every other node.
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    params = module.params
    texts = []
    for item in params["files"]:
        if not item["src"]:
            module.fail_json(msg="%s: no src (run label_studio_files through its action plugin, "
                                 "with content or content_base64)" % item["dest"])
        try:
            with open(item["src"], "rb") as handle:
                texts.append(handle.read())
        except OSError as err:
            module.fail_json(msg="%s: cannot read its copy %s: %s" % (item["dest"], item["src"], err))
    try:
        result = make_file_set(params, texts, module.check_mode, module._diff)
    except (FileSetError, OSError) as err:
        module.fail_json(msg=str(err))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
