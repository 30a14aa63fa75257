#!/usr/bin/python
# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: label_studio_invite
short_description: Read, or rotate, the organization's invite (signup) link
description:
  - Returns the link people sign up with when signup without a link is disabled (deploy
    disables it). Label Studio has one such link per organization.
  - With O(rotate=true) the link is reset first (a new token), so the old link stops working.
    Rotating always changes it.
  - "B(The link is a credential): anyone who has it can create an account that sees every project.
    Use C(no_log: true) on the task and keep what it returns in a private file, not in output."
version_added: "1.0.0"
author: Label Studio study automation (@label-studio-study)
extends_documentation_fragment:
  - check_and_diff
  - label_studio_connection
options:
  rotate:
    description: Reset the invite token before returning the link.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    details: In check mode O(rotate=true) reports a change and returns the current link.
  diff_mode:
    support: partial
    details: The diff only says that the link is reset; the token is never shown.
notes:
  - Works with Label Studio 1.6.0 and 1.23.x (open-source edition).
"""

EXAMPLES = r"""
- name: Read the invite link
  label_studio_invite:
    token_file: ~/.local/state/label-studio/ls-0123456789/api_token
  register: invite
  no_log: true

- name: Keep it in a private file on the controller
  ansible.builtin.copy:
    content: "{{ invite.invite_url }}\n"
    dest: ~/.label-studio-study/invite-link
    mode: "0600"
  delegate_to: localhost
  no_log: true
"""

RETURN = r"""
invite_url:
  description: The full signup link (O(url) + C(/user/signup/?token=...)). A credential.
  returned: always
  type: str
  sample: http://127.0.0.1:8080/user/signup/?token=0123456789abcdef
rotated:
  description: Whether the token was (or in check mode would be) reset.
  returned: always
  type: bool
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.label_studio_client import (CONNECTION_ARGSPEC, CONNECTION_OPTIONS,
                                                      LabelStudioError, client_from_module)


def full_link(base_url, invite_url):
    """Label Studio answers with a path (/user/signup/?token=...)."""
    if invite_url.startswith(("http://", "https://")):
        return invite_url
    return base_url.rstrip("/") + "/" + invite_url.lstrip("/")


def main():
    module = AnsibleModule(
        argument_spec=dict(rotate=dict(type="bool", default=False), **CONNECTION_ARGSPEC),
        supports_check_mode=True, **CONNECTION_OPTIONS)
    rotate = module.params["rotate"]
    client = client_from_module(module)
    result = dict(changed=rotate, rotated=rotate, invite_url=None)
    if module._diff:
        result["diff"] = {"before": "invite link: current\n",
                          "after": "invite link: %s\n" % ("reset (new token)" if rotate else "current")}
    try:
        answer = client.reset_invite() if rotate and not module.check_mode else client.invite()
    except LabelStudioError as err:
        module.fail_json(msg="invite link: %s" % err, **result)
    if not answer or not answer.get("invite_url"):
        module.fail_json(msg="invite link: Label Studio returned no invite_url", **result)
    result["invite_url"] = full_link(module.params["url"], answer["invite_url"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
