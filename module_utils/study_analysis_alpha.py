# -*- coding: utf-8 -*-
"""Krippendorff's alpha for any distance (nominal, MASI), with missing values.

alpha = 1 - D_o / D_e from the coincidence matrix (Krippendorff 2011, "Computing Krippendorff's
Alpha-Reliability"): only units with at least two values count; in a unit with m values each
ordered pair of values adds 1 / (m - 1).
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type


def nominal(first, second):
    return 0.0 if first == second else 1.0


def masi(first, second):
    """MASI distance of two sets (Passonneau 2006): 1 - Jaccard * monotonicity."""
    first, second = frozenset(first), frozenset(second)
    if not first and not second:
        return 0.0
    union = len(first | second)
    common = len(first & second)
    if first == second:
        weight = 1.0
    elif first <= second or second <= first:
        weight = 2.0 / 3.0
    elif common:
        weight = 1.0 / 3.0
    else:
        weight = 0.0
    return 1.0 - (common / union) * weight


def alpha(units, distance=nominal):
    """alpha over units: an iterable of lists of the values the coders gave (None = missing).

    Returns None when it is undefined (fewer than two pairable values, or no expected
    disagreement: every value the same).
    """
    coincidences = {}
    for values in units:
        present = [value for value in values if value is not None]
        m = len(present)
        if m < 2:
            continue
        counts = {}
        for value in present:
            counts[value] = counts.get(value, 0) + 1
        for first, n_first in counts.items():
            for second, n_second in counts.items():
                pairs = n_first * (n_second - 1) if first == second else n_first * n_second
                if pairs:
                    key = (first, second)
                    coincidences[key] = coincidences.get(key, 0.0) + pairs / (m - 1.0)
    totals = {}
    for (first, _second), weight in coincidences.items():
        totals[first] = totals.get(first, 0.0) + weight
    n = sum(totals.values())
    if n < 2:
        return None
    distances = {}

    def delta(first, second):
        key = (first, second)
        if key not in distances:
            distances[key] = distance(first, second)
        return distances[key]

    observed = sum(weight * delta(first, second) for (first, second), weight in coincidences.items())
    values = list(totals)
    expected = sum(totals[first] * totals[second] * delta(first, second)
                   for first in values for second in values)
    if expected == 0:
        return None
    return 1.0 - (n - 1.0) * observed / expected
