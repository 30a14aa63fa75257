# -*- coding: utf-8 -*-
"""label_studio_tasks' whole work: read the tasks, check every project, then import (all or nothing).

One function, run_import(), behind two callers: the module (library/label_studio_tasks.py), which
runs on the node, and its action plugin, which calls it in Ansible's own process when the node is
this machine (the local connection, as the default inventory has it): there a module run only adds
its payload, an interpreter and a copy of the tasks (~0.5 s for playbooks/assign.yml).
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
from contextlib import ExitStack

from ansible.module_utils.atomic_files import remove_if_present
from ansible.module_utils.label_studio_client import (CONNECTION_ARGSPEC, CONNECTION_OPTIONS,
                                                      LabelStudioError, client_from_params,
                                                      single_project)
from ansible.module_utils.label_studio_config import referenced_fields
from ansible.module_utils.label_studio_lock import project_lock
from ansible.module_utils.label_studio_task_keys import existing_records, records_from_node_command
from ansible.module_utils.label_studio_task_plan import (ImportRefused, describe_plan, key_of,
                                                         plan_import, validate_tasks)

ARGUMENT_SPEC = dict(
    project=dict(type="str"),
    tasks=dict(type="list", elements="dict"),
    src=dict(type="path"),
    bundle=dict(type="path"),
    bundle_src=dict(type="path"),
    remove_bundle_src=dict(type="bool", default=False),
    remove_bundle=dict(type="bool", default=False),
    key=dict(type="str", default="study_id", no_log=False),
    purge=dict(type="bool", default=False),
    database=dict(type="path"),
    node_command=dict(type="list", elements="str"),
    chunk_size=dict(type="int", default=5000),
    **CONNECTION_ARGSPEC)
# The argument spec's rules between options (AnsibleModule's and validate_argument_spec's keywords).
ARGUMENT_RULES = dict(
    mutually_exclusive=CONNECTION_OPTIONS["mutually_exclusive"] + [
        ("tasks", "src", "bundle"), ("project", "bundle"), ("database", "node_command")],
    required_one_of=CONNECTION_OPTIONS["required_one_of"] + [("tasks", "src", "bundle")],
    required_by={"tasks": "project", "src": "project"})

# What plan_project reads of a listed project (task_number: existing_records' check).
LISTED_FIELDS = ("id", "title", "label_config", "task_number")


class ImportFailed(Exception):
    """The run stops: msg for the user, result as it stands (counts, bundle_removed, errors)."""

    def __init__(self, msg, result):
        Exception.__init__(self, msg)
        self.msg = msg
        self.result = result


def read_json(path, what):
    try:
        with open(path) as handle:
            return json.load(handle)
    except (IOError, OSError, ValueError) as err:
        raise LabelStudioError("cannot read %s from %s: %s" % (what, path, err))


def load_imports(params):
    """[(project title, tasks)] in the order given: one project, or every project of the bundle."""
    if params["bundle"]:
        bundle = read_json(params["bundle"], "the bundle")
        if not isinstance(bundle, dict) or not all(isinstance(t, list) for t in bundle.values()):
            raise LabelStudioError("%s must hold a JSON object mapping project titles to lists of tasks"
                                   % params["bundle"])
        return list(bundle.items())
    if params["tasks"] is not None:
        return [(params["project"], params["tasks"])]
    tasks = read_json(params["src"], "tasks")
    if not isinstance(tasks, list):
        raise LabelStudioError("%s must hold a JSON list of tasks" % params["src"])
    return [(params["project"], tasks)]


def run_import(params, check_mode=False, diff=False):
    """(result, warnings) of one run; ImportFailed with the result so far when it stops."""
    result = dict(changed=False, project_id=None, added=0, present=0, removed=0, key_source=None)
    if params["bundle_src"]:
        raise ImportFailed("bundle_src is handled by the action plugin (action_plugins/"
                           "label_studio_tasks.py, enabled in ansible.cfg); give bundle instead", result)
    imports, problem = None, None
    try:
        imports = load_imports(params)
    except LabelStudioError as err:
        problem = str(err)
    finally:
        # Once read into memory the file is not needed: it goes before any way out, and the
        # result says so.
        if params["remove_bundle"] and params["bundle"]:
            remove_if_present(params["bundle"])
            result["bundle_removed"] = True
    if problem:
        raise ImportFailed(problem, result)
    warnings = []
    try:
        client = client_from_params(params)
        # Read the existing keys and import under the projects' locks (taken in one order, so two
        # runs never wait on each other), so no other import slips in between.
        with ExitStack() as locks:
            for title in sorted(set(title for title, _tasks in imports)):
                locks.enter_context(project_lock(params["url"], title))
            run_imports(params, client, imports, result, warnings, check_mode, diff)
    except (LabelStudioError, RuntimeError) as err:
        raise ImportFailed(str(err), result)
    return result, warnings


def plan_project(params, client, listed, title, tasks, read_records=None):
    """(project, plan, key source) for one project; ImportRefused says why it cannot be imported."""
    key = params["key"]
    try:
        project = single_project(listed, title)
        if project is None:
            raise ImportRefused("no project is titled exactly %r (deploy.yml creates one per "
                                "annotator)" % title)
        errors = validate_tasks(tasks, key, referenced_fields(project["label_config"]))
        if errors:
            raise ImportRefused("%d problem(s) in the tasks, nothing imported: %s"
                                % (len(errors), "; ".join(errors[:50])), errors, project["id"])
        # The listing's task_number (counted by the same query as GET /api/projects/ID/) is what
        # the database read is checked against: no GET per project (~0.06 s each).
        records, source = existing_records(client, project, key, params["database"], read_records)
    except (LabelStudioError, ValueError) as err:
        raise ImportRefused(str(err))
    plan = plan_import(tasks, records, key, params["purge"])
    if plan.blocked:
        raise ImportRefused("purge would remove %d task(s) that carry annotations (%s %s); nothing "
                            "changed" % (len(plan.blocked), key,
                                         ", ".join(key_of(r["key"]) for r in plan.blocked[:50])),
                            project_id=project["id"])
    return project, plan, source


def run_imports(params, client, imports, result, warnings, check_mode, diff):
    key = params["key"]
    planned, refused = [], []
    # Listed once for every project: Label Studio computes each project's counts in a listing,
    # so only the projects whose title holds the titles' common start (titles still matched
    # exactly by single_project; the filter only leaves out projects that cannot match).
    # Only the fields used here are asked for (1.23 leaves out what `include` does not name:
    # include=task_number alone once left the titles out, so no project was found).
    listed = client.list_projects([title for title, _tasks in imports], fields=LISTED_FIELDS)
    read_records = None
    if params["node_command"]:
        # PostgreSQL: every project's keys in one read-only query on the node (None: the API).
        wanted = set(title for title, _tasks in imports)
        found = sorted(p["id"] for p in listed if p.get("title") in wanted)
        read_records = records_from_node_command(params["node_command"], found, key) if found else None
    # Every project is checked and planned before the first task of any is written.
    for title, tasks in imports:
        try:
            planned.append((title,) + plan_project(params, client, listed, title, tasks, read_records))
        except ImportRefused as err:
            refused.append((title, err))
    if refused:
        message = "; ".join("project %r: %s" % (title, err) for title, err in refused)
        if params["bundle"]:
            message = "%d of %d project(s) refused, nothing imported into any: %s" % (
                len(refused), len(imports), message)
        else:
            result["project_id"] = refused[0][1].project_id
        errors = [error for _title, err in refused for error in err.errors]
        if errors:
            result["errors"] = errors
        raise ImportFailed(message, result)

    per_project = []
    for title, project, plan, source in planned:
        per_project.append(dict(plan.counts(), project=title, project_id=project["id"],
                                key_source=source))
        if plan.duplicates:
            warnings.append("project %r holds several tasks with the same %s: %s"
                            % (title, key, ", ".join(plan.duplicates[:20])))
    for name in ("added", "present", "removed"):
        result[name] = sum(item[name] for item in per_project)
    result["changed"] = any(plan.changed for _t, _p, plan, _s in planned)
    result["key_source"] = ",".join(sorted(set(item["key_source"] for item in per_project))) or None
    if params["bundle"]:
        result["projects"] = per_project
    elif per_project:
        result["project_id"] = per_project[0]["project_id"]
    if diff:
        result["diff"] = [{"before_header": title, "after_header": title,
                           "prepared": describe_plan(plan, key)} for title, _p, plan, _s in planned
                          if plan.changed or not params["bundle"]]
        if not params["bundle"]:
            result["diff"] = result["diff"][0]
    if not result["changed"] or check_mode:
        return
    size = max(1, params["chunk_size"])
    for title, project, plan, _source in planned:
        try:
            for start in range(0, len(plan.add), size):
                client.import_tasks(project["id"], plan.add[start:start + size])
            for record in plan.remove:
                client.delete_task(record["id"])
        except LabelStudioError as err:
            raise ImportFailed("project %r: %s (re-run to finish: tasks already imported are "
                               "recognised by %s)" % (title, err, key), result)
