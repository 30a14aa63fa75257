# -*- coding: utf-8 -*-
"""The whole analysis of one export: annotations + assignments -> named tables (lists of rows).

Pure: plain data in, plain data out, no report text in any table.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import statistics

from ansible.module_utils.study_analysis_agreement import agreement_rows
from ansible.module_utils.study_analysis_alpha import alpha, masi, nominal
from ansible.module_utils.study_analysis_config import KINDS
from ansible.module_utils.study_analysis_groups import TYPES, typed_groups
from ansible.module_utils.study_analysis_records import problem
from ansible.module_utils.study_analysis_votes import NO_ERROR, VOTES, error_table, unit_counts

ALL = "all"

COLUMNS = {
    "agreement": ["batch", "kind", "label", "pairs", "f1"],
    "errors-exact": ["batch", "category", "model", "count", "percent"],
    "errors-relaxed": ["batch", "category", "model", "count", "percent"],
    "errors-majority": ["batch", "category", "model", "count", "percent"],
    "alpha": ["batch", "errors", "units", "alpha"],
    "groups": ["batch", "kind", "type", "groups", "reports"],
    "durations": ["batch", "annotator", "reports", "answered", "mean", "median", "min", "max", "total"],
    "annotators": ["batch", "annotator", "category", "count"],
    "completeness": ["batch", "annotator", "assigned", "completed", "remaining"],
    "problems": ["batch", "check", "where", "detail"],
}
TABLES = list(COLUMNS)


def default_batches(assigned):
    """Batches in which at least two annotators share a report (sheet order)."""
    return [batch for batch, reports in assigned.items()
            if any(len(names) >= 2 for names in reports.values())]


def _sortable(value):
    return (0, value, "") if isinstance(value, int) else (1, 0, str(value))


def analyze(annotations, scheme, assigned, batches, read_problems=()):
    """{table name: rows} for the batches asked for.

    annotations: from study_analysis_records.read_exports; assigned: {batch: {report: [names]}}
    from the sheet (in the study's order); read_problems: checks found while reading.
    """
    labels_by_kind = [(kind, scheme.labels[kind]) for kind in KINDS]
    tables = dict((name, []) for name in TABLES)
    for batch in batches:
        mine = [a for a in annotations if a["batch"] == batch]
        part = _batch_tables(batch, mine, scheme, labels_by_kind, assigned.get(batch, {}))
        for name, rows in part.items():
            tables[name].extend(rows)
    wanted = set(batches)
    for item in read_problems:
        batch = item.get("batch")
        if batch is None or batch in wanted:
            tables["problems"].append(dict(item, batch=batch or ""))
    tables["problems"].sort(key=lambda row: (row["batch"], row["check"], row["where"]))
    return tables


def _batch_tables(batch, annotations, scheme, labels_by_kind, assigned):
    by_report = {}
    for annotation in annotations:
        by_report.setdefault(annotation["report"], []).append(annotation)
    reports = sorted(by_report, key=_sortable)

    pools = dict((kind, {}) for kind in KINDS)
    group_counts = {}
    votes = dict((vote, []) for vote in VOTES)
    alpha_units = {"all": []}
    for value in scheme.errors + [NO_ERROR]:
        alpha_units[value] = []

    for report in reports:
        found = sorted(by_report[report], key=lambda a: a["annotator"])
        names = [a["annotator"] for a in found]
        number = dict((name, position) for position, name in enumerate(names, start=1))
        for index in scheme.candidates:
            # Alpha: one unit per (report, candidate), each annotator's set of errors.
            sets = [frozenset(a["candidates"][index]["errors"]) or frozenset([NO_ERROR]) for a in found]
            alpha_units["all"].append(sets)
            for value in scheme.errors + [NO_ERROR]:
                alpha_units[value].append([value in chosen for chosen in sets])
        # One unit of votes per (report, model): candidates showing the same model are pooled.
        models = {}
        for index in scheme.candidates:
            for a in found:
                models.setdefault(a["candidates"][index]["model"], []).append((a, index))
        for model in sorted(models):
            groups_by_kind = {}
            for kind in KINDS:
                spans = [span + (a["annotator"],) for a, index in models[model]
                         for span in a["candidates"][index][kind]]
                groups = typed_groups(spans)
                groups_by_kind[kind] = groups
                for kind_of_group, _marked, wide in groups:
                    tally = group_counts.setdefault((kind, kind_of_group), [0, set()])
                    tally[0] += 1
                    tally[1].add(report)
                    for start, end, label, name in wide:
                        pools[kind].setdefault(number[name], set()).add(
                            (start, end, label, report, model, kind))
            errors = {}
            others = set()
            for a, index in models[model]:
                errors.setdefault(a["annotator"], set()).update(a["candidates"][index]["errors"])
                if a["candidates"][index]["other"]:
                    others.add(a["annotator"])
            counts = unit_counts(groups_by_kind, errors, len(others), names, scheme.errors)
            for vote in VOTES:
                votes[vote].append((model, counts[vote]))
        # Every position that exists gets a pool, also when its annotator marked nothing.
        for kind in KINDS:
            for position in number.values():
                pools[kind].setdefault(position, set())

    tables = {"agreement": agreement_rows(batch, pools, labels_by_kind)}
    for vote in VOTES:
        tables["errors-" + vote] = error_table(batch, votes[vote], labels_by_kind, scheme.errors)
    tables["alpha"] = _alpha_rows(batch, alpha_units)
    tables["groups"] = [
        {"batch": batch, "kind": kind, "type": kind_of_group,
         "groups": group_counts.get((kind, kind_of_group), [0, ()])[0],
         "reports": len(group_counts.get((kind, kind_of_group), [0, ()])[1])}
        for kind in KINDS for kind_of_group in TYPES]
    tables["durations"] = _duration_rows(batch, annotations)
    tables["annotators"] = _annotator_rows(batch, annotations, scheme)
    tables["completeness"], tables["problems"] = _completeness(batch, by_report, assigned)
    return tables


def _alpha_rows(batch, units):
    rows = []
    for name, values in units.items():
        value = alpha(values, masi if name == "all" else nominal)
        rows.append({"batch": batch, "errors": name,
                     "units": sum(1 for unit in values if len(unit) >= 2),
                     "alpha": None if value is None else round(value, 4)})
    return rows


def _duration_rows(batch, annotations):
    names = sorted(set(a["annotator"] for a in annotations))
    rows = []
    for name in [ALL] + names:
        mine = [a for a in annotations if name == ALL or a["annotator"] == name]
        minutes = [a["minutes"] for a in mine if a["minutes"] is not None]
        row = {"batch": batch, "annotator": name, "reports": len(mine), "answered": len(minutes)}
        if minutes:
            row.update(mean=round(float(statistics.mean(minutes)), 2), median=float(statistics.median(minutes)),
                       min=min(minutes), max=max(minutes), total=sum(minutes))
        rows.append(row)
    return rows


def _annotator_rows(batch, annotations, scheme):
    names = sorted(set(a["annotator"] for a in annotations))
    categories = ["reports"] + scheme.labels["omissions"] + scheme.labels["additions"] + \
        scheme.errors + ["other", NO_ERROR]
    rows = []
    for name in names:
        counts = dict((category, 0) for category in categories)
        for a in annotations:
            if a["annotator"] != name:
                continue
            counts["reports"] += 1
            for entry in a["candidates"].values():
                for kind in KINDS:
                    for span in entry[kind]:
                        counts[span[2]] = counts.get(span[2], 0) + 1
                for value in entry["errors"]:
                    counts[value] += 1
                counts["other"] += 1 if entry["other"] else 0
                empty = not entry["errors"] and not entry["other"] and \
                    not any(entry[kind] for kind in KINDS)
                counts[NO_ERROR] += 1 if empty else 0
        for category in categories + sorted(set(counts) - set(categories)):
            rows.append({"batch": batch, "annotator": name, "category": category,
                         "count": counts[category]})
    return rows


def _completeness(batch, by_report, assigned):
    names = []
    for reports in assigned.values():
        for name in reports:
            if name not in names:
                names.append(name)
    for found in by_report.values():
        for a in found:
            if a["annotator"] not in names:
                names.append(a["annotator"])
    rows = []
    problems = []
    for name in names:
        mine = [report for report, people in assigned.items() if name in people]
        done = [report for report in mine if any(a["annotator"] == name for a in by_report.get(report, []))]
        rows.append({"batch": batch, "annotator": name, "assigned": len(mine), "completed": len(done),
                     "remaining": len(mine) - len(done)})
    complete = [report for report, people in assigned.items()
                if set(people) <= set(a["annotator"] for a in by_report.get(report, []))]
    rows.append({"batch": batch, "annotator": "reports with all their annotators",
                 "assigned": len(assigned), "completed": len(complete),
                 "remaining": len(assigned) - len(complete)})
    for report in sorted(set(by_report) | set(assigned), key=_sortable):
        people = assigned.get(report, [])
        done = set(a["annotator"] for a in by_report.get(report, []))
        missing = [name for name in people if name not in done]
        extra = sorted(done - set(people))
        if done and missing:
            problems.append(problem(
                "fewer annotators than assigned", "report %s" % report,
                "%d of %d; missing %s" % (len(done & set(people)), len(people), ", ".join(missing)), batch))
        if extra:
            problems.append(problem("annotated but not assigned", "report %s" % report,
                                    "by %s (counted in the analysis)" % ", ".join(extra), batch))
    return rows, problems
