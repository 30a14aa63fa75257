# -*- coding: utf-8 -*-
"""The one HTTP client every label_studio_* module uses.

Plain HTTP (urllib) rather than label-studio-sdk: modules run with the node's own Python,
which has no SDK, and the SDK's generated client differs between the Label Studio versions
the project supports (1.6.0 and 1.23.x). The endpoints used here exist in both.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import socket
import time

try:  # Python 3
    from http.client import HTTPConnection, HTTPException
    from urllib.error import HTTPError, URLError
    from urllib.parse import urlencode
    from urllib.request import HTTPHandler, ProxyHandler, Request, build_opener
except ImportError:  # pragma: no cover - Python 2 is not supported by Label Studio anyway
    raise

from ansible.module_utils.label_studio_listener import (ListenerError, ListenerUnknown, NoListener,
                                                        verify_listener)

# Connection options shared by every module (merged into each module's argument_spec).
CONNECTION_ARGSPEC = dict(
    url=dict(type="str", default="http://127.0.0.1:8080"),
    token=dict(type="str", no_log=True),
    token_file=dict(type="path", no_log=False),
    timeout=dict(type="int", default=600),
    wait_seconds=dict(type="int", default=60),
)
CONNECTION_OPTIONS = dict(mutually_exclusive=[("token", "token_file")],
                          required_one_of=[("token", "token_file")])


class LabelStudioError(Exception):
    """A failure whose message is meant for the user as it is."""


class ListenerRefused(LabelStudioError):
    """Another account listens on Label Studio's port: nothing was sent, nothing to retry."""


class TokenRejected(LabelStudioError):
    """Label Studio answered 401/403 to the API token."""


def read_token(token=None, token_file=None):
    if token:
        return token.strip()
    try:
        with open(token_file) as handle:
            value = handle.read().strip()
    except (IOError, OSError) as err:
        raise LabelStudioError("cannot read the API token from %s: %s" % (token_file, err))
    if not value:
        raise LabelStudioError("the API token file %s is empty" % token_file)
    return value


def client_from_params(params):
    """Build the client from the connection options (CONNECTION_ARGSPEC); LabelStudioError when
    the token cannot be read."""
    token = read_token(params.get("token"), params.get("token_file"))
    return LabelStudioClient(params["url"], token, timeout=params["timeout"],
                             wait_seconds=params["wait_seconds"])


def client_from_module(module):
    """Build the client from a module's connection parameters, failing the module cleanly."""
    try:
        return client_from_params(module.params)
    except LabelStudioError as err:
        module.fail_json(msg=str(err))


class _CheckedConnection(HTTPConnection):
    """A connection that sends nothing until the port's listener is known to be this account's.

    The check runs once the TCP connection is up, so it sees the listener that accepted it (an
    account that binds the port after a check made before connecting would be missed)."""
    needs_proof = True

    def connect(self):
        HTTPConnection.connect(self)
        try:
            verify_listener(self.port or 80, self.host)
        except ListenerUnknown:
            if self.needs_proof:
                self.close()
                raise
        except ListenerError:
            self.close()
            raise


class _CheckedHandler(HTTPHandler):
    def __init__(self, needs_proof):
        HTTPHandler.__init__(self)
        self._needs_proof = needs_proof

    def http_open(self, req):
        def connection(host, **kwargs):
            conn = _CheckedConnection(host, **kwargs)
            conn.needs_proof = self._needs_proof
            return conn
        return self.do_open(connection, req)


class LabelStudioClient:
    def __init__(self, url, token, timeout=600, wait_seconds=60):
        self.url = url.rstrip("/")
        # None: only unauthenticated calls (/health). Where the listener's owner cannot be seen
        # (not Linux), such calls go ahead; calls that carry the token are refused.
        self._token = token
        self.timeout = timeout
        # Retry refused connections this long: the server may be restarting (handler, cron).
        self.wait_seconds = wait_seconds
        # Never send the study's data or the token through a proxy from the environment, nor to
        # a listener on the port that belongs to another account of the node.
        self._opener = build_opener(ProxyHandler({}), _CheckedHandler(needs_proof=token is not None))
        self._version = None

    # -- transport -----------------------------------------------------------------------
    def request(self, method, path, params=None, body=None, raw=False, ok=(200, 201, 204)):
        url = self.url + path
        if params:
            url += "?" + urlencode(params)
        data = None if body is None else json.dumps(body).encode("utf-8")
        headers = {"Accept": "application/json"}
        if self._token is not None:
            headers["Authorization"] = "Token " + self._token
        if data is not None:
            headers["Content-Type"] = "application/json"
        deadline = time.time() + self.wait_seconds
        while True:
            req = Request(url, data=data, headers=headers)
            req.get_method = lambda m=method: m
            try:
                resp = self._opener.open(req, timeout=self.timeout)
                status, payload = resp.getcode(), resp.read()
                break
            except HTTPError as err:
                status, payload = err.code, err.read()
                if status in (502, 503) and time.time() < deadline:
                    time.sleep(1)
                    continue
                break
            except NoListener as err:  # the listener went away between connect and check
                if time.time() < deadline:
                    time.sleep(1)
                    continue
                raise LabelStudioError("Label Studio is not reachable at %s (%s)" % (self.url, err))
            except ListenerError as err:
                raise ListenerRefused("refusing to talk to %s: %s" % (self.url, err))
            except (URLError, socket.error, HTTPException) as err:  # refused, reset, not HTTP
                reason = getattr(err, "reason", err)
                if time.time() < deadline:
                    time.sleep(1)
                    continue
                raise LabelStudioError("Label Studio is not reachable at %s (%s): is the service "
                                       "running? (deploy.yml starts it)" % (self.url, reason))
        if status in (401, 403):
            raise TokenRejected("Label Studio at %s rejected the API token (HTTP %d on %s %s): "
                                   "check token/token_file" % (self.url, status, method, path))
        if status not in ok:
            raise LabelStudioError("Label Studio answered HTTP %d to %s %s: %s"
                                   % (status, method, path, _error_text(payload)))
        if raw:
            return payload
        return json.loads(payload.decode("utf-8")) if payload else None

    # -- server ----------------------------------------------------------------------------
    def version(self):
        if self._version is None:
            info = self.request("GET", "/api/version")
            self._version = info.get("release") or info.get("label-studio-os-package", {}).get("version")
        return self._version

    # -- projects --------------------------------------------------------------------------
    def list_projects(self, titles=None, fields=None):
        """Every project; with titles, at least every project titled exactly as one of them: the
        listing is filtered by their common start (listing_filter), and the caller still matches
        titles exactly. The listing counts each project's tasks: filtered, a study with many
        large projects answers in a fraction of the time.

        fields: only these are asked for (Label Studio's `include`): 1.23 then computes and
        sends only those (20 projects: 0.03 s instead of 0.16 s), 1.6 only those counts. A
        version whose answer lacks one of them is asked again without `include`."""
        projects, page = [], 1
        query = {"page_size": 100}
        contains = listing_filter(titles or [])
        if contains:
            query["title"] = contains
        if fields:
            query["include"] = ",".join(fields)
        while True:
            try:
                answer = self.request("GET", "/api/projects/", dict(query, page=page))
            except LabelStudioError as err:
                if "HTTP 404" in str(err) and page > 1:  # past the last page
                    break
                raise
            if isinstance(answer, list):  # unpaginated answer
                projects = answer
                break
            projects.extend(answer.get("results", []))
            if not answer.get("next"):
                break
            page += 1
        if fields and not all(set(fields) <= set(project) for project in projects):
            return self.list_projects(titles)
        return projects

    def find_project(self, title):
        """The project with exactly this title, or None; an error if the title is ambiguous."""
        return single_project(self.list_projects([title]), title)

    def get_project(self, project_id):
        return self.request("GET", "/api/projects/%d/" % project_id)

    def create_project(self, fields):
        return self.request("POST", "/api/projects/", body=fields)

    def update_project(self, project_id, fields):
        return self.request("PATCH", "/api/projects/%d/" % project_id, body=fields)

    def delete_project(self, project_id):
        self.request("DELETE", "/api/projects/%d/" % project_id)

    # -- tasks -----------------------------------------------------------------------------
    def import_tasks(self, project_id, tasks):
        return self.request("POST", "/api/projects/%d/import" % project_id, body=tasks)

    def list_tasks(self, project_id, page_size=1000):
        """Every task of a project as {id, data, total_annotations, cancelled_annotations}."""
        tasks, page = [], 1
        include = "id,data,total_annotations,cancelled_annotations"
        while True:
            try:
                answer = self.request("GET", "/api/tasks/", {
                    "project": project_id, "page": page, "page_size": page_size,
                    "fields": "task_only", "include": include})
            except LabelStudioError as err:
                if "HTTP 404" in str(err) and page > 1:  # past the last page
                    break
                raise
            batch = answer.get("tasks", []) if isinstance(answer, dict) else answer
            tasks.extend(batch)
            total = answer.get("total") if isinstance(answer, dict) else None
            if len(batch) < page_size or (total is not None and len(tasks) >= total):
                break
            page += 1
        return tasks

    def delete_task(self, task_id):
        self.request("DELETE", "/api/tasks/%d/" % task_id, ok=(200, 204, 404))

    # -- export ----------------------------------------------------------------------------
    def export(self, project_id, export_type, download_all_tasks=False):
        params = {"exportType": export_type}
        if download_all_tasks:
            params["download_all_tasks"] = "true"
        return self.request("GET", "/api/projects/%d/export" % project_id, params=params, raw=True)


    # -- users and the invite link ---------------------------------------------------------
    def list_users(self):
        """Every user of the organization (a plain list on 1.6.0 and 1.23.x)."""
        answer = self.request("GET", "/api/users/")
        return answer.get("results", []) if isinstance(answer, dict) else answer

    def create_user(self, email, username):
        # The API accepts but ignores a password: label_studio_user sets it through the CLI.
        return self.request("POST", "/api/users/", body={"email": email, "username": username})

    def update_user(self, user_id, fields):
        return self.request("PATCH", "/api/users/%d/" % user_id, body=fields)

    def delete_user(self, user_id):
        self.request("DELETE", "/api/users/%d/" % user_id)

    def invite(self):
        """{token, invite_url}; invite_url is relative. Without a trailing slash: /api/invite/ is a 404."""
        return self.request("GET", "/api/invite")

    def reset_invite(self):
        return self.request("POST", "/api/invite/reset-token")


def listing_filter(titles):
    """What the project listing may be filtered by (None: list them all) so that it still holds
    every project titled exactly as one of `titles`: their longest common start, as Label Studio's
    title filter keeps the titles that contain it (1.23: ignoring case; a server without the
    filter lists them all)."""
    start = titles[0] if titles else ""
    for title in titles[1:]:
        while not title.startswith(start):
            start = start[:-1]
    return start or None


def exact_title_matches(projects, title):
    """Projects whose title is exactly `title` (the API's title filter is a substring match)."""
    return [p for p in projects if p.get("title") == title]


def single_project(projects, title):
    matches = exact_title_matches(projects, title)
    if len(matches) > 1:
        raise LabelStudioError("%d projects are titled %r (ids %s): rename or delete all but one"
                               % (len(matches), title, ", ".join(str(p["id"]) for p in
                                                                sorted(matches, key=lambda p: p["id"]))))
    return matches[0] if matches else None


def _error_text(payload):
    """The useful part of an error body: Label Studio's JSON detail, else the start of the text."""
    try:
        body = json.loads(payload.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, AttributeError):
        return (payload or b"")[:300].decode("utf-8", "replace").strip()
    if isinstance(body, dict):
        if body.get("validation_errors"):
            return json.dumps(body["validation_errors"], ensure_ascii=False)
        if body.get("detail"):
            return str(body["detail"])
    return json.dumps(body, ensure_ascii=False)[:500]
