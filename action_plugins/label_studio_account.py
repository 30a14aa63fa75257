# -*- coding: utf-8 -*-
"""Action plugin of label_studio_account: the account's facts from one shell command.

Every playbook starts by learning the node account's home dir (the instance's default paths are
under it). A Python module run costs ~0.3-0.5 s (an interpreter, ansible's module_utils, the
module's payload); `getent passwd "$(id -u)"` asks the same password database (NSS, so LDAP
accounts of a cluster too) in a few milliseconds. Where that command is missing or its answer
does not parse, the module runs as before and reads the database with Python's pwd.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase

# The account Ansible connects as, by uid (the modules run as it); getent prints its one
# passwd line: name:password:uid:gid:gecos:dir:shell.
PASSWD_COMMAND = 'getent passwd "$(id -u)"'


def facts_from_passwd_line(text):
    """The facts of one passwd line (as the module's account_facts names them); None if the text
    is not exactly one well-formed line."""
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) != 1:
        return None
    fields = lines[0].split(":")
    if len(fields) != 7 or not fields[0] or not fields[5].startswith("/"):
        return None
    try:
        uid, gid = int(fields[2]), int(fields[3])
    except ValueError:
        return None
    return dict(user_id=fields[0], user_uid=uid, user_gid=gid, user_dir=fields[5],
                user_shell=fields[6])


class ActionModule(ActionBase):
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp  # no temp dir is needed
        if self._task.args:
            raise AnsibleActionFail("label_studio_account takes no options (given: %s)"
                                    % ", ".join(sorted(self._task.args)))
        # Not sudoable: no terminal over SSH, so stdout is the command's alone.
        answer = self._low_level_execute_command(PASSWD_COMMAND, sudoable=False)
        facts = None
        if answer.get("rc") == 0:
            facts = facts_from_passwd_line(to_text(answer.get("stdout", ""), errors="surrogate_or_strict"))
        if facts is None:
            result.update(self._execute_module(module_name="label_studio_account", module_args={},
                                               task_vars=task_vars))
            return result
        result.update(changed=False, ansible_facts=facts)
        return result
