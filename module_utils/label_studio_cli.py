# -*- coding: utf-8 -*-
"""Run the `label-studio` command line against an instance's database, like its launcher does."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import subprocess


def cli_environment(env_vars, label_studio_bin, home):
    """A clean environment plus the instance's env file, as run-label-studio builds it.

    Clean because Label Studio also reads unprefixed names (USERNAME, PASSWORD, HOST) that a
    caller's environment may hold, and proxies must not see anything.
    """
    env = {"HOME": home, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
           "PATH": os.path.dirname(label_studio_bin) + ":/usr/local/bin:/usr/bin:/bin"}
    env.update(env_vars)
    return env


def password_was_set(stdout):
    """reset_password exits 0 also when the user is unknown (1.6.0, 1.23.x): read what it says."""
    return "Password successfully changed" in stdout


def reset_password(label_studio_bin, env, email, password, timeout):
    """Set a password with `label-studio reset_password`, the password going through stdin.

    Never argv (visible in /proc to every local user). The CLI reads it with getpass, which
    prefers /dev/tty: a new session (setsid) has no controlling terminal, so getpass falls back
    to stdin instead of waiting on the terminal ansible-playbook was started from.
    Returns (ok, output).
    """
    try:
        proc = subprocess.run([label_studio_bin, "reset_password", "--username", email],
                              input=(password + "\n").encode("utf-8"), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, env=env, cwd=env.get("HOME") or "/",
                              start_new_session=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return False, "label-studio reset_password did not finish in %d s" % timeout
    except OSError as err:
        return False, "cannot run %s: %s" % (label_studio_bin, err)
    stdout = proc.stdout.decode("utf-8", "replace")
    stderr = proc.stderr.decode("utf-8", "replace")
    ok = proc.returncode == 0 and password_was_set(stdout)
    return ok, "rc=%d; stdout: %s; stderr (end): %s" % (proc.returncode, stdout.strip()[-800:],
                                                          stderr.strip()[-800:])
