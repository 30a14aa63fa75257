#!/usr/bin/python
# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: label_studio_account
short_description: Learn the node account's name, uid, gid and home dir (as facts)
description:
  - Sets the facts C(user_id), C(user_uid), C(user_gid), C(user_dir) and C(user_shell) of the
    account the modules run as, from the password database (as the C(user) subset of
    M(ansible.builtin.setup) names them). They are all the playbooks read of the node; the
    instance's default paths are under C(user_dir).
  - Its action plugin (action_plugins/label_studio_account.py) reads the same entry with one
    shell command (C(getent passwd) for the uid that C(id -u) prints) in a few milliseconds
    instead of a Python module run (~0.3-0.5 s; M(ansible.builtin.setup) takes about twice that
    even for one subset). Only
    where that command is missing or its answer does not parse does this module run.
version_added: "1.0.0"
author: Label Studio study automation (@label-studio-study)
extends_documentation_fragment:
  - check_and_diff
options: {}
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  facts:
    description: Action returns an C(ansible_facts) dictionary that will update existing host facts.
    support: full
"""

EXAMPLES = r"""
- name: Learn the node account's home dir (the instance's default paths are under it)
  label_studio_account:
"""

RETURN = r"""
ansible_facts:
  description: The account's facts.
  returned: always
  type: dict
  contains:
    user_id:
      description: The account's name.
      type: str
    user_uid:
      description: Its uid.
      type: int
    user_gid:
      description: Its primary gid.
      type: int
    user_dir:
      description: Its home dir.
      type: str
    user_shell:
      description: Its login shell.
      type: str
"""

import os
import pwd

from ansible.module_utils.basic import AnsibleModule


def account_facts(uid):
    """The facts of the account with this uid, from the password database."""
    entry = pwd.getpwuid(uid)
    return dict(user_id=entry.pw_name, user_uid=entry.pw_uid, user_gid=entry.pw_gid,
                user_dir=entry.pw_dir, user_shell=entry.pw_shell)


def main():
    module = AnsibleModule(argument_spec={}, supports_check_mode=True)
    try:
        facts = account_facts(os.getuid())
    except KeyError:
        module.fail_json(msg="uid %d has no entry in the password database: its home dir is unknown"
                         % os.getuid())
    module.exit_json(changed=False, ansible_facts=facts)


if __name__ == "__main__":
    main()
