# -*- coding: utf-8 -*-
"""Span agreement between annotator positions: pairwise P, R, F1 on exact span matches.

In each report the annotators are numbered by their sorted names (first, second, ...); spans are
pooled over the batch per number, so "annotator 1 vs annotator 2" compares whoever came first in
each report with whoever came second. Items are (start, end, label, report, model, kind) after
widening EXTEND groups.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import itertools


def pair_f1(first, second):
    """F1 of `second` against `first` (A = first, B = second), None when A is empty.

    P = |A and B| / |B|, R = |A and B| / |A|; an empty B gives P = 0; F1 is 0 when P + R = 0.
    """
    if not first:
        return None
    common = len(first & second)
    recall = common / len(first)
    precision = common / len(second) if second else 0.0
    if precision + recall == 0:
        return 0.0
    return 2 * precision * recall / (precision + recall)


def mean_f1(pools, label=None):
    """(defined pairs, mean F1 or None) over every pair (a, b), a < b, of annotator numbers.

    pools: {number: set of items}; label restricts both sets to that label (item[2]).
    """
    numbers = sorted(pools)
    if label is not None:
        pools = dict((n, set(item for item in pools[n] if item[2] == label)) for n in numbers)
    values = []
    for first, second in itertools.combinations(numbers, 2):
        value = pair_f1(pools[first], pools[second])
        if value is not None:
            values.append(value)
    if not values:
        return 0, None
    return len(values), sum(values) / len(values)


def agreement_rows(batch, pools_by_kind, labels_by_kind):
    """Rows batch, kind, label (all, then each label), pairs, f1."""
    rows = []
    for kind, labels in labels_by_kind:
        pools = pools_by_kind.get(kind, {})
        for label in [None] + list(labels):
            pairs, value = mean_f1(pools, label)
            rows.append({"batch": batch, "kind": kind, "label": "all" if label is None else label,
                         "pairs": pairs, "f1": None if value is None else round(value, 4)})
    return rows
