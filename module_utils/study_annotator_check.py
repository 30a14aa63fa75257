# -*- coding: utf-8 -*-
"""The check of the study's annotator names and emails (study_check_names' whole work): every
problem at once, each naming the study_annotators entry, never an email.

One function, check_annotators(), behind two callers: the module (library/study_check_names.py)
and its action plugin, which runs it in the controller's own process (the check only reads its
arguments; starting a module for it cost ~0.4 s at the start of every deploy).
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.label_studio_user_plan import check_email
from ansible.module_utils.study_names import fold, name_problem, same_ignoring_case

ARGUMENT_SPEC = dict(
    annotators=dict(type="list", elements="raw", required=True),
    emails=dict(type="list", elements="raw", default=[], no_log=True),
)


class NamesRefused(Exception):
    """Some names or emails cannot be used; the message lists every problem."""


def annotator_problems(names, emails):
    """Every problem of the names and emails, each naming the entry (never an email)."""
    problems = []
    for position, name in enumerate(names, start=1):
        if not isinstance(name, str) or not name.strip():
            problems.append("study_annotators item %d: no name" % position)
            continue
        problem = name_problem(name, "annotator")
        if problem:
            problems.append("study_annotators item %d: %s" % (position, problem))
    positions = dict((name, position) for position, name in reversed(list(enumerate(names, 1))))
    for name, earlier in same_ignoring_case(names):
        problems.append("study_annotators item %d: '%s' differs from item %d '%s' only in case "
                        "(their files would be one on a case-insensitive file system)"
                        % (positions[name], name, positions[earlier], earlier))
    seen = {}
    for position, name in enumerate(names, start=1):
        if position > len(emails) or emails[position - 1] is None:
            continue
        who = "study_annotators item %d (%s)" % (position, name)
        try:
            address = check_email(str(emails[position - 1]))
        except ValueError:
            problems.append("%s: the email is not an email address" % who)
            continue
        key = fold(address)
        if key in seen:
            problems.append("%s: has the same email as item %d (compared case-insensitively); "
                            "each person gets exactly one account" % (who, seen[key]))
        seen.setdefault(key, position)
    return problems


def check_annotators(params):
    """The names when all is well; NamesRefused listing every problem otherwise."""
    names = params["annotators"]
    problems = annotator_problems(names, params["emails"] or [])
    if not names:
        problems.append("study_annotators: the list is empty")
    if problems:
        raise NamesRefused("%d problem%s with study_annotators (nothing was written):\n- %s" % (
            len(problems), "" if len(problems) == 1 else "s", "\n- ".join(problems)))
    return names
