# -*- coding: utf-8 -*-
"""Overlapping spans of several annotators -> groups, their type, and widened spans.

A span is (start, end, label, annotator). Spans of one (report, model, kind) are sorted by start;
a span that starts before the running end of the current group joins it, else it opens a new one.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

SINGLE = "SINGLE"    # one annotator marked it
ACCEPT = "ACCEPT"    # everybody who marked it used the same offsets
REVIEW = "REVIEW"    # an annotator has several spans in the group: needs a human look
EXTEND = "EXTEND"    # overlapping but different offsets, one span per annotator
TYPES = (SINGLE, ACCEPT, REVIEW, EXTEND)


def make_groups(spans):
    """[[span, ...], ...] in order of start; spans within a group sorted too."""
    groups = []
    running_end = None
    for span in sorted(spans, key=lambda s: (s[0], s[1], s[3], s[2])):
        if groups and span[0] < running_end:
            groups[-1].append(span)
            running_end = max(running_end, span[1])
        else:
            groups.append([span])
            running_end = span[1]
    return groups


def group_type(group):
    annotators = set(span[3] for span in group)
    if len(annotators) == 1:
        return SINGLE
    if len(set((span[0], span[1]) for span in group)) == 1:
        return ACCEPT
    if len(annotators) < len(group):
        return REVIEW
    return EXTEND


def widened(group, kind_of_group):
    """EXTEND groups become [min start, max end] for every span; the others stay as marked."""
    if kind_of_group != EXTEND:
        return list(group)
    start = min(span[0] for span in group)
    end = max(span[1] for span in group)
    return [(start, end, span[2], span[3]) for span in group]


def typed_groups(spans):
    """[(type, spans as marked, spans widened)] for one (report, model, kind)."""
    result = []
    for group in make_groups(spans):
        kind_of_group = group_type(group)
        result.append((kind_of_group, group, widened(group, kind_of_group)))
    return result
