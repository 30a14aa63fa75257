#!/usr/bin/python
# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: label_studio_info
short_description: Read-only questions to Label Studio through the project's one client
description:
  - Every call the playbooks make to Label Studio goes through the project's client
    (module_utils/label_studio_client.py), which bypasses proxies from the environment and sends
    nothing until the listener on the port is known to belong to the deploying account (its owner
    uid, from the kernel's sock_diag or /proc/net/tcp and tcp6). This module gives the playbooks
    those calls.
  - O(query=port) asks only the kernel who listens on the port and sends nothing at all.
  - O(query=health) waits until C(/health) answers C(UP); it sends no token for that. Where the
    listener's owner cannot be seen (not Linux, e.g. a macOS controller probing a tunnel) it
    goes ahead unchecked, as nothing secret is sent; every query that sends the token refuses
    instead. Given the API token, it then also says whether the token is accepted, as
    O(query=whoami) does (one module run for both, as deploy asks after every start).
  - O(query=whoami) says whether the API token is accepted.
  - O(query=projects) returns each project's id, title and counts (no task data).
  - O(query=users) writes Label Studio's list of accounts (with emails) as it is, to O(dest)
    (mode 0600, replaced atomically, only when it changed), and returns only how many there are.
  - Returns no secret, no email and no study text.
version_added: "1.0.0"
author: Label Studio study automation (@label-studio-study)
extends_documentation_fragment:
  - check_and_diff
  - label_studio_connection
options:
  query:
    description: What to ask.
    type: str
    required: true
    choices: [port, health, whoami, projects, users]
  dest:
    description: File (on the node) for O(query=users). Required with it.
    type: path
  service_status:
    description:
      - With O(query=health), a command (argv) that prints the service's supervisor status, such
        as C(supervisorctl ... status label-studio). It runs every few seconds while waiting.
      - Once it says C(FATAL) (supervisord gave up, as the service exited within its first
        seconds at every start), or the service has been restarted three times during the wait,
        the wait ends at once instead of after O(wait_seconds), with the status in the message.
    type: list
    elements: str
  service_log:
    description:
      - With O(service_status), the service's log file on the node. The message of a given-up
        start ends with its last line (usually the error that stopped it).
    type: path
notes:
  - The API token (O(token) or O(token_file)) is required for O(query=whoami), O(query=projects)
    and O(query=users), and optional for O(query=health).
attributes:
  check_mode:
    support: full
    details: Nothing is written in check mode; O(query=users) reports whether O(dest) would change.
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: Wait until Label Studio is healthy (its listener must be this account's)
  label_studio_info:
    query: health
    url: http://127.0.0.1:8080
    wait_seconds: 240

- name: Wait until it is healthy, then check that the API token is accepted
  label_studio_info:
    query: health
    url: http://127.0.0.1:8080
    wait_seconds: 240
    token_file: ~/.local/state/label-studio/ls-0123456789/api_token
  register: health

- name: Count every project's tasks and annotations
  label_studio_info:
    query: projects
    url: http://127.0.0.1:8080
    token_file: ~/.local/state/label-studio/ls-0123456789/api_token
  register: counts

- name: Keep the accounts list in a private file
  label_studio_info:
    query: users
    dest: ~/.local/state/label-studio/ls-0123456789/exports/users.json
    token_file: ~/.local/state/label-studio/ls-0123456789/api_token
"""

RETURN = r"""
listening:
  description: O(query=port) whether this account listens on the port (another account's listener fails the module).
  returned: query=port
  type: bool
status:
  description: C(UP) once healthy (query=health); the HTTP status of C(whoami) (query=whoami).
  returned: query=health or query=whoami
  type: raw
token_accepted:
  description: Whether Label Studio accepts the API token.
  returned: query=whoami, and query=health given the token
  type: bool
token_status:
  description: The HTTP status of C(whoami) (200, or 401 for a rejected token).
  returned: query=health given the token
  type: int
projects:
  description: Every project's id, title and counts (skipped annotations counted apart).
  returned: query=projects
  type: list
  elements: dict
  sample: [{id: 1, title: "RRS: annotator1", tasks: 50, annotations: 20, skipped: 1}]
users:
  description: How many accounts the list written to O(dest) holds.
  returned: query=users
  type: int
"""

import json
import os
import subprocess
import time
from urllib.parse import urlsplit

from ansible.module_utils.atomic_files import file_differs, write_atomic
from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.label_studio_client import (CONNECTION_ARGSPEC, LabelStudioClient,
                                                      LabelStudioError, ListenerRefused,
                                                      TokenRejected, read_token)
from ansible.module_utils.label_studio_listener import (ListenerError, NoListener,
                                                        check_listeners, listener_owners)

NEEDS_TOKEN = ("whoami", "projects", "users")


def project_counts(projects):
    """id, title and counts of each project from /api/projects/ (task data never included)."""
    return sorted(({"id": p["id"], "title": p.get("title"), "tasks": p.get("task_number", 0),
                    "annotations": p.get("total_annotations_number", 0),
                    "skipped": p.get("skipped_annotations_number", 0)} for p in projects),
                  key=lambda row: row["id"])


def users_of(payload):
    """The accounts in /api/users/'s answer (a plain list on 1.6.0 and 1.23.x, else paginated)."""
    answer = json.loads(payload.decode("utf-8"))
    return answer.get("results", []) if isinstance(answer, dict) else answer


def is_up(payload):
    """Label Studio serves /health's JSON as text/html: read the body, not the content type."""
    return b'"UP"' in (payload or b"")


def url_port(url):
    parts = urlsplit(url)
    return parts.port or (443 if parts.scheme == "https" else 80), parts.hostname or "127.0.0.1"


def ask_port(module):
    port, host = url_port(module.params["url"])
    try:
        check_listeners(listener_owners(port, host), port, os.getuid())
    except NoListener:
        return {"listening": False}
    except ListenerError as err:
        module.fail_json(msg=str(err))
    return {"listening": True}


HEALTH_POLL_SECONDS = 0.25


def token_accepted(client):
    """Whether Label Studio accepts the client's API token (whoami answers, or 401)."""
    try:
        client.request("GET", "/api/current-user/whoami")
    except TokenRejected:
        return False
    return True


# How often a wait asks supervisord about the service (a start takes seconds to minutes).
STATUS_POLL_SECONDS = 2.0
# A service that exits after its first seconds is restarted by supervisord for ever: this many
# restarts seen during one wait end it too.
RESTARTS_GIVEN_UP = 3


def service_state(status_output):
    """(state, pid or None, line) of the program in `supervisorctl status PROGRAM`'s output;
    (None, None, '') when it names none (supervisorctl itself failed)."""
    for line in status_output.splitlines():
        fields = line.split()
        if len(fields) > 1 and fields[1] in ("STOPPED", "STARTING", "RUNNING", "BACKOFF", "STOPPING",
                                             "EXITED", "FATAL", "UNKNOWN"):
            pid = fields[3].rstrip(",") if len(fields) > 3 and fields[2] == "pid" else None
            return fields[1], pid, line.strip()
    return None, None, ""


def given_up(status_outputs):
    """Why the service will not come up, from the status outputs seen so far in one wait, else
    None: supervisord gave up on it (FATAL: it exited within its first seconds at every start),
    or it exited and was restarted RESTARTS_GIVEN_UP times."""
    states = [service_state(output) for output in status_outputs]
    state, _pid, line = states[-1] if states else (None, None, "")
    if state == "FATAL":
        return "supervisord gave up starting it (%s)" % line
    pids = set(pid for _state, pid, _line in states if pid)
    if len(pids) > RESTARTS_GIVEN_UP:
        return "it exited %d times and supervisord keeps restarting it (%s)" % (len(pids) - 1, line)
    return None


def last_line(path, limit=4096):
    """The last non-empty line of a log file (only its end is read); None if there is none."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - limit))
            tail = handle.read().decode("utf-8", "replace")
    except (IOError, OSError):
        return None
    lines = [line.strip() for line in tail.splitlines() if line.strip()]
    return lines[-1][:500] if lines else None


def service_check(argv, log_file):
    """A function saying why the service will not come up (given_up), else None."""
    seen = []

    def check():
        try:
            # Not module.run_command: a supervisorctl that hangs must not outlast the wait.
            done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                  timeout=30, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return None
        seen.append(done.stdout.decode("utf-8", "replace"))
        why = given_up(seen)
        line = last_line(log_file) if why and log_file else None
        return why + "; the last line of %s: %s" % (log_file, line) if line else why
    return check


def wait_healthy(client, wait_seconds, gave_up=None):
    """Wait until /health answers UP; gave_up() (if given, every few seconds) ends it early."""
    deadline = time.time() + wait_seconds
    next_status = time.time() + STATUS_POLL_SECONDS
    while True:
        try:
            if is_up(client.request("GET", "/health", raw=True)):
                return {"status": "UP"}
            problem = "/health did not answer UP"
        except ListenerRefused:
            raise
        except LabelStudioError as err:  # starting: refused, 502, migrations still running
            problem = str(err)
        if gave_up is not None and time.time() >= next_status:
            next_status = time.time() + STATUS_POLL_SECONDS
            why = gave_up()
            if why:
                raise LabelStudioError("Label Studio at %s did not start: %s" % (client.url, why))
        if time.time() >= deadline:
            raise LabelStudioError("Label Studio at %s was not healthy within %d s: %s"
                                   % (client.url, wait_seconds, problem))
        # A refused connection costs next to nothing: a short pause finds the start as soon as it
        # is done (2 s pauses made every deploy wait a second for nothing on average).
        time.sleep(HEALTH_POLL_SECONDS)


def main():
    module = AnsibleModule(
        argument_spec=dict(query=dict(type="str", required=True, choices=["port", "health", "whoami",
                                                                          "projects", "users"]),
                           dest=dict(type="path"),
                           service_status=dict(type="list", elements="str"),
                           service_log=dict(type="path"),
                           **CONNECTION_ARGSPEC),
        mutually_exclusive=[("token", "token_file")],
        required_if=[("query", "users", ["dest"])] + [
            ("query", query, ("token", "token_file"), True) for query in NEEDS_TOKEN],
        supports_check_mode=True)
    params = module.params
    query = params["query"]
    if query == "port":
        module.exit_json(changed=False, **ask_port(module))
    token = None
    try:
        if query in NEEDS_TOKEN or params.get("token") or params.get("token_file"):
            token = read_token(params.get("token"), params.get("token_file"))
        if query == "health":
            # Its own retry loop: a start that runs migrations takes minutes, not wait_seconds' 60.
            client = LabelStudioClient(params["url"], None, timeout=params["timeout"], wait_seconds=0)
            gave_up = (service_check(params["service_status"], params["service_log"])
                       if params["service_status"] else None)
            result = wait_healthy(client, params["wait_seconds"], gave_up)
            if token is not None:
                client = LabelStudioClient(params["url"], token, timeout=params["timeout"],
                                           wait_seconds=params["wait_seconds"])
                accepted = token_accepted(client)
                result.update(token_accepted=accepted, token_status=200 if accepted else 401)
            module.exit_json(changed=False, **result)
        client = LabelStudioClient(params["url"], token, timeout=params["timeout"],
                                   wait_seconds=params["wait_seconds"])
        if query == "whoami":
            accepted = token_accepted(client)
            module.exit_json(changed=False, token_accepted=accepted, status=200 if accepted else 401)
        if query == "projects":
            module.exit_json(changed=False, projects=project_counts(client.list_projects()))
        payload = client.request("GET", "/api/users/", raw=True)
    except LabelStudioError as err:
        module.fail_json(msg=str(err))
    # Written as Label Studio sent it: the merge reads this very text.
    count = len(users_of(payload))
    if module.check_mode:
        changed = file_differs(params["dest"], payload)
    else:
        changed = write_atomic(params["dest"], payload)
    module.exit_json(changed=changed, users=count)


if __name__ == "__main__":
    main()
