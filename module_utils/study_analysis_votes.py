# -*- coding: utf-8 -*-
"""Votes: from several annotators' groups to one count per category for a (report, model).

exact: every annotator of the report has exactly one span in the group and all spans are
identical (offsets and label): that label counts 1. relaxed: the same on widened spans.
majority (span-blind): per label, the annotators' counts of it in the group, sorted; the largest
count that at least two annotators reach. Errors (choices) count when more than half of the
report's annotators ticked them; "other" counts the annotators who wrote an other-text.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

VOTES = ("exact", "relaxed", "majority")
NO_ERROR = "No Error"
OTHER = "other"
TOTAL = {"omissions": "Total Omissions", "additions": "Total Additions"}


def _unanimous(spans, annotators):
    if len(spans) != len(annotators) or set(span[3] for span in spans) != set(annotators):
        return None
    if len(set(span[:3] for span in spans)) != 1:
        return None
    return spans[0][2]


def group_votes(marked, wide, annotators):
    """{vote: {label: count}} for one group; annotators = every annotator of the report."""
    votes = {"exact": {}, "relaxed": {}, "majority": {}}
    if len(marked) == len(annotators):
        for vote, spans in (("exact", marked), ("relaxed", wide)):
            label = _unanimous(spans, annotators)
            if label is not None:
                votes[vote][label] = 1
    if len(annotators) >= 2 and len(marked) >= 2:
        counts = {}
        for span in marked:
            per = counts.setdefault(span[2], {})
            per[span[3]] = per.get(span[3], 0) + 1
        for label, per in counts.items():
            # Annotators without the label count 0: fewer than two with it means no majority.
            if len(per) >= 2:
                votes["majority"][label] = sorted(per.values(), reverse=True)[1]
    return votes


def unit_counts(groups_by_kind, errors_by_annotator, others, annotators, error_values):
    """{vote: {category: count}} for one (report, model).

    groups_by_kind: {kind: [(type, marked, wide)]}; errors_by_annotator: {annotator: set of
    error values}; others: annotators with an other-text.
    """
    result = dict((vote, {}) for vote in VOTES)
    for kind, groups in groups_by_kind.items():
        for _type, marked, wide in groups:
            for vote, labels in group_votes(marked, wide, annotators).items():
                for label, count in labels.items():
                    result[vote][label] = result[vote].get(label, 0) + count
    majority_errors = {}
    for value in error_values:
        ticks = sum(1 for name in annotators if value in errors_by_annotator.get(name, ()))
        if 2 * ticks > len(annotators):
            majority_errors[value] = 1
    for vote in VOTES:
        result[vote].update(majority_errors)
        if others:
            result[vote][OTHER] = others
    return result


def error_table(batch, units, labels_by_kind, error_values):
    """Rows batch, category, model, count, percent (of the model's reports with at least one).

    units: [(model, {category: count})] for one vote.
    """
    categories = [NO_ERROR]
    for _kind, labels in labels_by_kind:
        categories.extend(labels)
    categories.extend(error_values)
    categories.append(OTHER)
    categories.extend(TOTAL[kind] for kind, _labels in labels_by_kind)
    per_model = {}
    for model, counts in units:
        tally = per_model.setdefault(model, {"units": 0, "count": {}, "any": {}})
        tally["units"] += 1
        found = dict((category, value) for category, value in counts.items() if value)
        for kind, labels in labels_by_kind:
            total = sum(found.get(label, 0) for label in labels)
            if total:
                found[TOTAL[kind]] = total
        if not found:
            found[NO_ERROR] = 1
        for category, value in found.items():
            tally["count"][category] = tally["count"].get(category, 0) + value
            tally["any"][category] = tally["any"].get(category, 0) + 1
    rows = []
    for category in categories:
        for model in sorted(per_model):
            tally = per_model[model]
            rows.append({"batch": batch, "category": category, "model": model,
                         "count": tally["count"].get(category, 0),
                         "percent": round(100.0 * tally["any"].get(category, 0) / tally["units"], 2)})
    return rows
