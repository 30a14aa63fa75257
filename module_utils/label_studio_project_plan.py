# -*- coding: utf-8 -*-
"""What label_studio_project has to do, decided without touching the server."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.label_studio_client import LabelStudioError, single_project
from ansible.module_utils.label_studio_config import normalize_label_config

# Label Studio's project model limits titles to 50 characters (1.6.0 and 1.23.x).
MAX_TITLE = 50


class ProjectPlan:
    def __init__(self, create=None, update=None, delete=False, diff=None):
        self.create = create or {}      # fields of a new project
        self.update = update or {}      # fields to PATCH on the existing one
        self.delete = delete
        self.diff = diff or {"before": {}, "after": {}}

    @property
    def changed(self):
        return bool(self.create or self.update or self.delete)


def _shown(project):
    if not project:
        return {}
    return {"title": project.get("title"), "label_config": project.get("label_config", ""),
            "description": project.get("description") or ""}


def plan_project(project, title, label_config, description, state):
    """Compare the existing project (API dict or None) with the wanted one."""
    before = _shown(project)
    if len(title) > MAX_TITLE:
        raise ValueError("the title is %d characters long; Label Studio allows at most %d"
                         % (len(title), MAX_TITLE))
    if state == "absent":
        return ProjectPlan(delete=bool(project), diff={"before": before, "after": {}})
    if label_config is not None:
        normalize_label_config(label_config)  # raises a clear error before any write
    if not project:
        if label_config is None:
            raise ValueError("label_config is required to create the project")
        fields = {"title": title, "label_config": label_config}
        if description is not None:
            fields["description"] = description
        after = {"title": title, "label_config": label_config, "description": description or ""}
        return ProjectPlan(create=fields, diff={"before": before, "after": after})
    update = {}
    if label_config is not None and (normalize_label_config(label_config)
                                     != normalize_label_config(project.get("label_config") or "<View/>")):
        update["label_config"] = label_config
    if description is not None and description != (project.get("description") or ""):
        update["description"] = description
    after = dict(before, **update)
    return ProjectPlan(update=update, diff={"before": before, "after": after})


def plan_projects(projects, titles, label_config, description, state):
    """[(title, project or None, ProjectPlan)] for several titles against one project listing
    (label_studio_project titles=...). Every title is planned before anything is written; the
    first that cannot be (listed twice, ambiguous, too long, bad config) raises, naming it."""
    seen, plans = set(), []
    for title in titles:
        if title in seen:
            raise ValueError("project %r is listed twice in titles" % title)
        seen.add(title)
        try:
            project = single_project(projects, title)
            plans.append((title, project, plan_project(project, title, label_config,
                                                       description, state)))
        except LabelStudioError as err:
            raise LabelStudioError("project %r: %s" % (title, err))
        except ValueError as err:
            raise ValueError("project %r: %s" % (title, err))
    return plans


def projects_diff(plans):
    """One diff for several projects: before/after keyed by title, changed projects only."""
    changed = [(title, plan) for title, _, plan in plans if plan.changed]
    return {"before": dict((title, plan.diff["before"]) for title, plan in changed),
            "after": dict((title, plan.diff["after"]) for title, plan in changed)}
