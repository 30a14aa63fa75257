#!/usr/bin/python
# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: label_studio_crontab
short_description: One named line of the account's crontab, edited under the account's crontab lock
description:
  - "Adds, updates or removes the job line that follows the marker C(#Ansible: NAME) in the
    crontab of the account the module runs as, in the format of M(ansible.builtin.cron), so the
    lines that module wrote are found and kept."
  - C(crontab) is read whole, edited and written back whole. M(ansible.builtin.cron) does that
    without a lock, so two instances of one account deployed at once (two hosts of one play, or
    two playbook runs) could each write back a crontab without the other's new line. This module
    holds the account's crontab lock (C(~/.cache/label-studio-study/locks/crontab.lock)) from
    the read to the write.
  - The rest of the crontab is written back as it was read (without the header that some
    crontab implementations print, and without blank lines at its end), and only when the named
    line changes (or the crontab lacks its last line end, which cron needs).
version_added: "1.0.0"
author: Label Studio study automation (@label-studio-study)
extends_documentation_fragment:
  - check_and_diff
options:
  name:
    description: "The line's name (its marker line is C(#Ansible: NAME))."
    type: str
    required: true
  job:
    description:
      - The command, one line. Required with O(state=present).
      - cron reads an unescaped C(%) as a newline, so escape it as C(\%).
    type: str
  minute:
    description: Minute field.
    type: str
    default: "*"
  hour:
    description: Hour field.
    type: str
    default: "*"
  day:
    description: Day-of-month field.
    type: str
    default: "*"
  month:
    description: Month field.
    type: str
    default: "*"
  weekday:
    description: Day-of-week field.
    type: str
    default: "*"
  special_time:
    description: A special time instead of the five fields (V(reboot) gives C(@reboot)).
    type: str
    choices: [annually, daily, hourly, monthly, reboot, weekly, yearly]
  state:
    description: Whether the line is there.
    type: str
    choices: [present, absent]
    default: present
  lock_wait_seconds:
    description: How long to wait for another edit of this account's crontab to end.
    type: int
    default: 120
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: The named line before and after, not the rest of the crontab.
seealso:
  - module: ansible.builtin.cron
"""

EXAMPLES = r"""
- name: Bring supervisord back after a node reboot
  label_studio_crontab:
    name: label-studio ls-0123456789
    special_time: reboot
    job: ~/.local/state/label-studio/ls-0123456789/start-supervisord

- name: Remove the backup line
  label_studio_crontab:
    name: label-studio backup ls-0123456789
    state: absent
"""

RETURN = r"""
line:
  description:
    - The job line as the crontab holds it after the run (in check mode, as it would), or null
      when there is none.
  returned: always
  type: str
  sample: "@reboot /home/jdoe/.local/state/label-studio/ls-0123456789/start-supervisord"
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.crontab_entries import (SPECIAL_TIMES, crontab_lines, crontab_text,
                                                  entry, entry_text, job_line, with_entry,
                                                  without_entry)
from ansible.module_utils.label_studio_lock import LockError, crontab_lock

ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True),
    job=dict(type="str"),
    minute=dict(type="str", default="*"),
    hour=dict(type="str", default="*"),
    day=dict(type="str", default="*"),
    month=dict(type="str", default="*"),
    weekday=dict(type="str", default="*"),
    special_time=dict(type="str", choices=list(SPECIAL_TIMES)),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    lock_wait_seconds=dict(type="int", default=120),
)

# crontab's messages are matched in English.
C_LOCALE = dict(LC_ALL="C", LANG="C")


def read_crontab(module, crontab):
    """The crontab's text; an account without one has an empty crontab."""
    rc, out, err = module.run_command([crontab, "-l"], environ_update=C_LOCALE)
    if rc == 0:
        return out
    if err.strip().startswith("no crontab for "):
        return ""
    module.fail_json(msg="crontab -l failed (rc %d): %s" % (rc, err.strip() or out.strip()))


def edit(module, crontab):
    """(changed, lines before, lines after) of this run; writes unless in check mode."""
    params = module.params
    listing = read_crontab(module, crontab)
    before = crontab_lines(listing)
    if params["state"] == "present":
        try:
            line = job_line(params["job"], params["minute"], params["hour"], params["day"],
                            params["month"], params["weekday"], params["special_time"])
        except ValueError as err:
            module.fail_json(msg="%s: %s" % (params["name"], err))
        after = with_entry(before, params["name"], line)
    else:
        after = without_entry(before, params["name"])
    # A crontab without its last newline is rewritten too: cron ignores an unterminated line.
    changed = after != before or (listing != "" and not listing.endswith("\n"))
    if changed and not module.check_mode:
        text = crontab_text(after)
        # Nothing left: the crontab is removed (run_command gives `crontab -` a stdin only for
        # data that is not empty; it would read the module's own).
        argv, data = ([crontab, "-"], text) if text else ([crontab, "-r"], None)
        rc, out, err = module.run_command(argv, data=data, binary_data=True, environ_update=C_LOCALE)
        if rc != 0:
            module.fail_json(msg="crontab %s failed (rc %d): %s" % (argv[1], rc, err.strip() or out.strip()))
    return changed, before, after


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True,
                           required_if=[("state", "present", ["job"])])
    name = module.params["name"]
    crontab = module.get_bin_path("crontab", required=True)
    if module.check_mode:
        # Nothing is written, so nothing is locked (the lock file would be a write).
        changed, before, after = edit(module, crontab)
    else:
        try:
            with crontab_lock(module.params["lock_wait_seconds"]):
                changed, before, after = edit(module, crontab)
        except (LockError, OSError) as err:
            module.fail_json(msg="%s: %s" % (name, err))
    result = dict(changed=changed, line=entry(after, name))
    if module._diff:
        header = "crontab: %s" % name
        result["diff"] = dict(before=entry_text(before, name), after=entry_text(after, name),
                              before_header=header, after_header=header)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
