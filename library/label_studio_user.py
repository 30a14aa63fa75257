#!/usr/bin/python
# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: label_studio_user
short_description: Make sure a Label Studio account exists for an email, with a password on creation
description:
  - Finds the account whose email is O(email), compared case-insensitively, among the
    organization's users. It never creates a second account for the same address; when two
    accounts already share it (for example C(A@x.org) and C(a@x.org)) the module fails and names
    their ids.
  - Creates the account through the API and then sets its password with
    C(label-studio reset_password) run on the node against the same database (the API ignores
    passwords). The password goes to that command on stdin, never on its command line. If setting
    the password fails, the new account is deleted again, so a re-run starts over.
  - The password is set only when the account is created. The module cannot read a stored
    password, so an existing account's password is never compared or changed (like
    C(update_password=on_create) elsewhere). To change it, run C(label-studio reset_password) by hand.
  - The username is updated when O(username) is given and differs.
  - Removing accounts is not supported, because deleting an annotator who has annotated breaks the
    analysis's mapping from annotations to people.
version_added: "1.0.0"
author: Label Studio study automation (@label-studio-study)
extends_documentation_fragment:
  - check_and_diff
  - label_studio_connection
options:
  email:
    description:
      - Email address of the account; it is also the login name.
      - Declared C(no_log), so it never reaches the node's syslog nor Ansible's output (it is
        personal data); messages and the diff name the account by O(username) instead, and the
        module does not return it.
    type: str
    required: true
  username:
    description:
      - Username of the account.
      - When omitted, a new account gets the local part of O(email) and an existing account's
        username is left as it is.
    type: str
  state:
    description: Only V(present) is supported.
    type: str
    choices: [present]
    default: present
  password:
    description:
      - Password to set when the account is created. Travels in the module's arguments (a
        file in Ansible's private temp dir, or stdin with pipelining), never on a command line.
      - One of O(password) and O(password_file) is required when the account has to be created,
        except in check mode.
    type: str
  password_file:
    description:
      - File on the managed node holding the password (one line). Must not be readable by group
        or others.
    type: path
  label_studio_bin:
    description:
      - The C(label-studio) executable of the instance's environment on the node.
      - Required when the account has to be created.
    type: path
  env_file:
    description:
      - The instance's env file on the node (C(service.env) in its state dir). Its C(NAME=VALUE)
        lines (shell quoting) form the environment of C(label-studio reset_password), so the
        command opens the same database as the service (C(LABEL_STUDIO_BASE_DATA_DIR)).
      - Required when the account has to be created.
    type: path
  cli_timeout:
    description: Seconds C(label-studio reset_password) may take.
    type: int
    default: 300
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: The diff shows the username and whether the account exists, never the email nor the password.
notes:
  - Works with Label Studio 1.6.0 and 1.23.x (open-source edition).
"""

EXAMPLES = r"""
- name: An annotator's account, with a password generated on the controller
  label_studio_user:
    email: a1@example.org
    username: annotator1
    password: "{{ lookup('ansible.builtin.password', '~/.label-studio-study/annotator1', length=20) }}"
    label_studio_bin: ~/label-studio/env/bin/label-studio
    env_file: ~/.local/state/label-studio/ls-0123456789/service.env
    token_file: ~/.local/state/label-studio/ls-0123456789/api_token

- name: The same with the password in a private file on the node
  label_studio_user:
    email: a2@example.org
    password_file: /home/me/.a2-password
    label_studio_bin: ~/label-studio/env/bin/label-studio
    env_file: ~/.local/state/label-studio/ls-0123456789/service.env
    token_file: ~/.local/state/label-studio/ls-0123456789/api_token
"""

RETURN = r"""
user_id:
  description: Id of the account (null when check mode would create it).
  returned: always
  type: int
  sample: 4
username:
  description: Username of the account (after any change).
  returned: always
  type: str
  sample: annotator1
created:
  description: Whether the account was (or in check mode would be) created.
  returned: always
  type: bool
updated_fields:
  description: Fields that were (or would be) updated on an existing account.
  returned: always
  type: list
  elements: str
  sample: [username]
"""

import os
import stat

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.env_file import parse_env_file
from ansible.module_utils.label_studio_cli import cli_environment, reset_password
from ansible.module_utils.label_studio_client import (CONNECTION_ARGSPEC, CONNECTION_OPTIONS,
                                                      LabelStudioError, client_from_module)
from ansible.module_utils.label_studio_user_plan import find_user, plan_user


def read_password_file(path):
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
        with open(path) as handle:
            text = handle.read()
    except (IOError, OSError) as err:
        raise ValueError("cannot read password_file %s: %s" % (path, err))
    if mode & 0o077:
        raise ValueError("password_file %s is readable by others (mode %04o): make it 0600" % (path, mode))
    return text[:-1] if text.endswith("\n") else text


def check_password(password, source):
    if not password:
        raise ValueError("the password from %s is empty" % source)
    if "\n" in password or "\r" in password:
        raise ValueError("the password from %s has more than one line" % source)
    return password


def read_env_file(path):
    try:
        with open(path) as handle:
            values = parse_env_file(handle.read(), source=path)
    except (IOError, OSError) as err:
        raise ValueError("cannot read env_file %s: %s" % (path, err))
    if not values.get("LABEL_STUDIO_BASE_DATA_DIR"):
        raise ValueError("env_file %s does not set LABEL_STUDIO_BASE_DATA_DIR: is it the instance's "
                         "service.env?" % path)
    return values


def creation_inputs(module):
    """Everything needed to create the account, validated before the first write.

    Returns (password or None in check mode, cli environment).
    """
    params = module.params
    for name in ("label_studio_bin", "env_file"):
        if not params[name]:
            raise ValueError("%s is required to create the account" % name)
    if not os.access(params["label_studio_bin"], os.X_OK):
        raise ValueError("label_studio_bin %s is not an executable" % params["label_studio_bin"])
    env = cli_environment(read_env_file(params["env_file"]), params["label_studio_bin"],
                          os.path.expanduser("~"))
    password = None
    if params["password"] is not None:
        password = check_password(params["password"], "password")
    elif params["password_file"]:
        password = check_password(read_password_file(params["password_file"]), params["password_file"])
        module.no_log_values.add(password)  # mask it should the CLI ever echo it
    elif not module.check_mode:
        raise ValueError("password or password_file is required to create the account")
    return password, env


def main():
    module = AnsibleModule(
        argument_spec=dict(
            email=dict(type="str", required=True, no_log=True),
            username=dict(type="str"),
            state=dict(type="str", default="present", choices=["present"]),
            password=dict(type="str", no_log=True),
            password_file=dict(type="path", no_log=False),
            label_studio_bin=dict(type="path"),
            env_file=dict(type="path", no_log=False),
            cli_timeout=dict(type="int", default=300),
            **CONNECTION_ARGSPEC),
        mutually_exclusive=[("password", "password_file")] + CONNECTION_OPTIONS["mutually_exclusive"],
        required_one_of=CONNECTION_OPTIONS["required_one_of"],
        supports_check_mode=True)
    params = module.params
    email = params["email"]
    # Messages name the account without its email (personal data, kept out of every log).
    who = "account %s" % (params["username"] or "of the given email")
    result = dict(changed=False, user_id=None, username=None, created=False, updated_fields=[])
    client = client_from_module(module)
    try:
        user = find_user(client.list_users(), email)
        plan = plan_user(user, email, params["username"])
        if plan.create:
            password, env = creation_inputs(module)
    except (LabelStudioError, ValueError) as err:
        module.fail_json(msg="%s: %s" % (who, err), **result)

    shown = plan.diff["after"]
    result.update(user_id=user["id"] if user else None,
                  username=shown["username"], created=bool(plan.create),
                  updated_fields=sorted(plan.update), changed=plan.changed)
    if module._diff:
        result["diff"] = dict((side, dict((k, v) for k, v in shown_side.items() if k != "email"))
                              for side, shown_side in plan.diff.items())
    if not plan.changed or module.check_mode:
        module.exit_json(**result)

    try:
        if plan.update:
            client.update_user(user["id"], plan.update)
            module.exit_json(**result)
        created = client.create_user(plan.create["email"], plan.create["username"])
    except LabelStudioError as err:
        module.fail_json(msg="%s: %s" % (who, err), **result)
    result.update(user_id=created["id"])
    # reset_password looks the account up by its exact stored email.
    ok, output = reset_password(params["label_studio_bin"], env, created["email"], password,
                                params["cli_timeout"])
    if ok:
        module.exit_json(**result)
    try:
        client.delete_user(created["id"])
        undone = "the new account was deleted again, so the next run starts over"
        result.update(user_id=None, created=False, changed=False)
    except LabelStudioError as err:
        undone = ("deleting the new account (id %d) failed too (%s): delete it in Label Studio "
                  "before the next run" % (created["id"], err))
    module.fail_json(msg="%s: setting the password with %s reset_password failed (%s); %s"
                     % (who, params["label_studio_bin"], output, undone), **result)


if __name__ == "__main__":
    main()
