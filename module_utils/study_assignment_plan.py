# -*- coding: utf-8 -*-
"""A validated sheet cut into each annotator's tasks, and the files that carry them."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
from json.encoder import encode_basestring

from ansible.module_utils.study_names import fold, path_inside
from ansible.module_utils.study_reports import BATCH_FIELD
from ansible.module_utils.study_sheet import ALL

_INFINITY = float("inf")


def row_annotators(row, names):
    """The annotators a (valid) row gives its report to, in the study's annotator order."""
    values = row.annotator_values()
    if ALL in values:
        return list(names)
    return [name for name in names if name in values]


def make_task(record, report_id, batch, key):
    """Task data: the report without "id" (Label Studio overwrites it), plus key and batch."""
    task = {key: report_id, BATCH_FIELD: batch}
    for field, value in record.items():
        if field != "id":
            task[field] = value
    return task


def plan_tasks(sheet, reports_by_id, names, batches, key):
    """{batch: {annotator: [task, ...]}} in sheet order, every annotator present (maybe [])."""
    plan = dict((batch, dict((name, []) for name in names)) for batch in batches)
    for row in sheet.rows:
        if row.batch not in plan:
            continue
        task = make_task(reports_by_id[row.report_id], row.report_id, row.batch, key)
        for name in row_annotators(row, names):
            plan[row.batch][name].append(task)
    return plan


def tasks_by_annotator(plan, names, batches):
    """{annotator: [tasks of every requested batch, batch by batch]}."""
    return dict((name, [task for batch in batches for task in plan[batch][name]]) for name in names)


def task_counts(plan):
    """{batch: {annotator: number of tasks}}."""
    return dict((batch, dict((name, len(tasks)) for name, tasks in per_name.items()))
                for batch, per_name in plan.items())


def task_file_name(batch, annotator):
    """The original study's file name for one batch of one annotator."""
    return "%s-%s-tasks.json" % (batch, annotator)


def task_file_path(directory, batch, annotator):
    """directory/{batch}-{annotator}-tasks.json; raises ValueError should it leave directory."""
    return path_inside(directory, task_file_name(batch, annotator))


def task_file_clashes(batches, names):
    """Problems for (batch, annotator) pairs whose task files would be one and the same.

    'a-b' + 'c' and 'a' + 'b-c' both give a-b-c-tasks.json (and names equal ignoring case give
    one file on a case-insensitive file system).
    """
    first = {}
    problems = []
    for batch in batches:
        for name in names:
            key = fold(task_file_name(batch, name))
            if key in first:
                problems.append("batch '%s' of annotator '%s' and batch '%s' of annotator '%s' "
                                "would share the task file %s; rename a batch or an annotator"
                                % (batch, name, first[key][0], first[key][1],
                                   task_file_name(batch, name)))
            else:
                first[key] = (batch, name)
    return problems


def render_task_file(tasks, texts=None):
    """File content for a task list: stable, readable, UTF-8 text kept as is.

    Byte for byte json.dumps(tasks, indent=2, ensure_ascii=False) + newline, the format these
    files have always had (so a re-run compares equal). That json.dumps runs in pure Python
    (indent turns off its C encoder), 0.3-0.4 s for 15,000 study tasks; tasks that are flat
    objects (text, numbers, lists of those: every study task) are laid out here with the C
    string encoder in about half of that, anything else by json.dumps itself.

    texts: a dict shared by the calls for several files and by render_bundle (task_texts), so a
    task object that is in several of them (a report given to three annotators) is laid out
    once, in both layouts at once."""
    if type(tasks) is not list or not tasks:
        return json.dumps(tasks, indent=2, ensure_ascii=False) + "\n"
    items = [pair[0] for pair in task_texts(tasks, {} if texts is None else texts)]
    return "[\n  " + ",\n  ".join(items) + "\n]\n"


def task_texts(tasks, cache):
    """[(indented, compact)] JSON texts of the tasks, each task object laid out once: cache (shared
    by the calls) is keyed by id(), as a report given to three annotators is one object in three
    lists (the caller keeps the tasks alive and unchanged meanwhile)."""
    pairs = []
    for task in tasks:
        pair = cache.get(id(task))
        if pair is None:
            pair = cache[id(task)] = _task_texts(task)
        pairs.append(pair)
    return pairs


def _json_scalar(value):
    """JSON text of a string, number, bool or null as json.dumps writes it; None otherwise."""
    kind = type(value)
    if kind is str:
        return encode_basestring(value)
    if value is None:
        return "null"
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return int.__repr__(value)
    if kind is float and value == value and value not in (_INFINITY, -_INFINITY):
        return float.__repr__(value)
    return None


_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _task_texts(task):
    """(list item at indent level 1 as json.dumps(indent=2) writes it, compact text as
    json.dumps(separators=(",", ":")) writes it), both with ensure_ascii=False. A flat object's
    values are encoded once for both; anything else goes to json itself."""
    if type(task) is dict and task:
        lines = []
        parts = []
        for key, value in task.items():
            if type(key) is not str:
                break
            text = encode_basestring(value) if type(value) is str else _json_scalar(value)
            if text is None:
                if type(value) is not list:
                    break
                items = [_json_scalar(item) for item in value]
                if None in items:
                    break
                if items:
                    indented = "[\n      " + ",\n      ".join(items) + "\n    ]"
                    text = "[" + ",".join(items) + "]"
                else:
                    indented = text = "[]"
            else:
                indented = text
            name = encode_basestring(key)
            lines.append(name + ": " + indented)
            parts.append(name + ":" + text)
        else:
            return "{\n    " + ",\n    ".join(lines) + "\n  }", "{" + ",".join(parts) + "}"
    return (json.dumps(task, indent=2, ensure_ascii=False).replace("\n", "\n  "), _COMPACT(task))


def render_bundle(by_annotator, names, prefix, texts=None):
    """(bytes, projects, tasks): the tasks of every annotator who has some, keyed by project title
    in the study's annotator order, as label_studio_tasks' bundle reads them. Compact: it is
    copied to the node and parsed once, never read by people (the task files are).

    Exactly json.dumps(bundle, ensure_ascii=False, separators=(",", ":")); a report given to
    three annotators is one task object in three lists (plan_tasks), so each is encoded once
    (texts: the cache render_task_file shares, see task_texts)."""
    texts = {} if texts is None else texts
    projects = []
    count = 0
    for name in names:
        tasks = by_annotator.get(name)
        if not tasks:
            continue
        items = [pair[1] for pair in task_texts(tasks, texts)]
        projects.append(_COMPACT(prefix + name) + ":[" + ",".join(items) + "]")
        count += len(tasks)
    content = ("{" + ",".join(projects) + "}").encode("utf-8")
    return content, len(projects), count
