# -*- coding: utf-8 -*-
"""Pure logic of an idempotent task import: validate, then compare keys with the project."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type


def key_of(value):
    """Keys compare as text: 50848467 from a sheet and "50848467" from JSON are the same report."""
    return str(value)


def task_data(task):
    """Label Studio accepts {"data": {...}} or the flat data dict; work on the data."""
    if isinstance(task, dict) and isinstance(task.get("data"), dict):
        return task["data"]
    return task


def validate_tasks(tasks, key, required_fields):
    """Every problem with the tasks, as messages naming the task (position and key) and field."""
    errors, seen = [], {}
    for position, task in enumerate(tasks, 1):
        data = task_data(task)
        if not isinstance(data, dict):
            errors.append("task %d is not an object" % position)
            continue
        if key not in data or data[key] in (None, ""):
            errors.append("task %d has no %r (the key field)" % (position, key))
            label = "task %d" % position
        else:
            label = "task %d (%s %s)" % (position, key, data[key])
            k = key_of(data[key])
            if k in seen:
                errors.append("%s repeats the key of task %d" % (label, seen[k]))
            else:
                seen[k] = position
        missing = [f for f in required_fields if f not in data]
        if missing:
            errors.append("%s lacks field%s %s that the label config shows"
                          % (label, "s" if len(missing) > 1 else "", ", ".join(repr(m) for m in missing)))
    return errors


class ImportPlan:
    def __init__(self, add, present, remove, blocked, duplicates):
        self.add = add                # task dicts to import
        self.present = present        # keys already in the project
        self.remove = remove          # existing task records to delete (purge)
        self.blocked = blocked        # existing records purge would delete but that carry annotations
        self.duplicates = duplicates  # keys found more than once in the project

    @property
    def changed(self):
        return bool(self.add or self.remove)

    def counts(self):
        return {"added": len(self.add), "present": len(self.present), "removed": len(self.remove)}


def plan_import(tasks, existing, key, purge=False):
    """Decide what to import and remove.

    existing: records {"id", "key", "annotations"} of the project's current tasks, where
    "annotations" counts submitted and skipped annotations.
    """
    by_key = {}
    duplicates = set()
    for record in existing:
        k = key_of(record["key"]) if record["key"] is not None else None
        if k in by_key:
            duplicates.add(k)
        by_key.setdefault(k, []).append(record)
    wanted = set()
    add, present = [], []
    for task in tasks:
        k = key_of(task_data(task)[key])
        wanted.add(k)
        if k in by_key:
            present.append(k)
        else:
            add.append(task)
    remove, blocked = [], []
    if purge:
        for k, records in sorted(by_key.items(), key=lambda item: str(item[0])):
            if k in wanted:
                continue
            for record in records:
                (blocked if record["annotations"] else remove).append(record)
    return ImportPlan(add, present, remove, blocked, sorted(d for d in duplicates if d is not None))


class ImportRefused(Exception):
    """One project's import cannot go ahead; the message says why (without the project's title)."""

    def __init__(self, message, errors=(), project_id=None):
        Exception.__init__(self, message)
        self.errors = list(errors)
        self.project_id = project_id


def describe_plan(plan, key, limit=20):
    """Diff text: what an import adds and removes, named by key (never by task text)."""
    def keys(items):
        shown = ", ".join(items[:limit])
        return shown + (" ... (%d more)" % (len(items) - limit) if len(items) > limit else "")
    lines = []
    if plan.add:
        lines.append("+ %d task(s): %s %s" % (len(plan.add), key,
                                              keys([key_of(task_data(t)[key]) for t in plan.add])))
    if plan.remove:
        lines.append("- %d task(s): %s %s" % (len(plan.remove), key,
                                              keys([key_of(r["key"]) for r in plan.remove])))
    lines.append("= %d task(s) already present" % len(plan.present))
    return "\n".join(lines) + "\n"
