# -*- coding: utf-8 -*-
"""Generate a balanced batch and write it into the assignment sheet.

Planning is pure (a Sheet from study_sheet.read_sheet in, rows out); writing touches only
the cells of the new batch, so the rest of the sheet and its formatting stay as the user made
them, and the previous sheet is kept as a timestamped backup next to it.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import datetime
import io
import os
import random
import stat

from ansible.module_utils.atomic_files import write_atomic
from ansible.module_utils.study_sheet import ALL, HEADER_ROW, normalize_id
from ansible.module_utils.study_validation import compress_rows


class SheetChangedError(Exception):
    """The sheet on disk no longer matches the plan (edited between reading and writing)."""


class GeneratedBatch:
    """What the generator will write: rows, new header cells, per-annotator counts."""

    def __init__(self, batch, rows, new_columns, counts, id_index, batch_index, annotator_indexes):
        self.batch = batch
        # [{"row", "id", "batch", "annotators", "appended"}] in sheet order
        self.rows = rows
        # [{"column": letter, "index": n, "name": "a4"}] header cells to add
        self.new_columns = new_columns
        self.counts = counts
        self.id_index = id_index
        self.batch_index = batch_index
        self.annotator_indexes = annotator_indexes

    def describe(self):
        """One line per row, for diffs and reports."""
        return "".join("row %d: %s %s %s\n" % (row["row"], row["id"], row["batch"],
                                               ", ".join(row["annotators"]))
                       for row in self.rows)


def available_reports(sheet, report_order):
    """Report ids in no batch yet (not in the sheet, or with an empty batch), reports.json order."""
    in_batch = set(row.report_id for row in sheet.rows if row.batch is not None)
    return [report_id for report_id in report_order if report_id not in in_batch]


def pick_reports(available, size, rng):
    """`size` of the available reports chosen by rng, kept in their original order."""
    picked = set(rng.sample(available, size))
    return [report_id for report_id in available if report_id in picked]


def balanced_assignment(report_ids, names, per_report, rng):
    """[(report_id, [annotators])]: per_report distinct annotators each, loads within one.

    Annotators come off a shuffled stack that is refilled when empty, so each refill is one
    round in which everybody gets exactly one report: loads never differ by more than one. Right
    after a refill the new round may offer an annotator this report already has from the old
    round (the original notebook's bug); that one is left on the stack for the next report, which
    keeps the round intact and the annotators distinct.
    """
    if not 1 <= per_report <= len(names):
        raise ValueError("per_report must be between 1 and the number of annotators")
    stack = []
    assignment = []
    for report_id in report_ids:
        chosen = []
        while len(chosen) < per_report:
            if not stack:
                stack = list(names)
                rng.shuffle(stack)
            for position in range(len(stack) - 1, -1, -1):
                if stack[position] not in chosen:
                    chosen.append(stack.pop(position))
                    break
            else:  # cannot happen: a fresh round holds every annotator, per_report <= annotators
                raise AssertionError("no annotator left for report %s" % report_id)
        order = dict((name, index) for index, name in enumerate(names))
        assignment.append((report_id, sorted(chosen, key=order.get)))
    return assignment


def plan_generated_batch(sheet, report_order, names, batch, size, per_report, seed):
    """(GeneratedBatch, []) or (None, problems) for a new batch in a valid sheet.

    Deterministic for a given seed, sheet and reports: the same call gives the same rows.
    """
    from openpyxl.utils import get_column_letter

    problems = []
    batch = (batch or "").strip()
    where = "%s column %s" % (sheet.path, sheet.batch_column.label())
    if not batch:
        problems.append("batch: give the new batch's name")
    elif batch.lower() == ALL:
        problems.append("batch: 'all' cannot be a batch name (batch=all means every batch)")
    elif batch in sheet.batches():
        rows = [row.number for row in sheet.rows if row.batch == batch]
        problems.append("%s: batch '%s' already exists (rows %s); the generator only adds new "
                        "batches: choose another name" % (where, batch, compress_rows(rows)))
    if not 1 <= per_report <= len(names):
        problems.append("per_report: %d, but it must be between 1 and the number of annotators (%d)"
                        % (per_report, len(names)))
    available = available_reports(sheet, report_order)
    if size < 1:
        problems.append("size: %d, but a batch needs at least one report" % size)
    elif size > len(available):
        problems.append("size: %d, but only %d report%s in no batch yet (reports in reports.json "
                        "that the sheet leaves without a batch)"
                        % (size, len(available), " is" if len(available) == 1 else "s are"))
    if problems:
        return None, problems

    rng = random.Random(seed)
    assignment = balanced_assignment(pick_reports(available, size, rng), names, per_report, rng)

    annotator_indexes = [column.index for column in sheet.annotator_columns]
    new_columns = []
    next_index = max(sheet.last_column, max(annotator_indexes)) + 1
    next_number = max(int(column.name[1:]) for column in sheet.annotator_columns) + 1
    while len(annotator_indexes) < per_report:
        # Numbered after the existing ones, placed right of everything so no column moves.
        new_columns.append({"column": get_column_letter(next_index), "index": next_index,
                            "name": "a%d" % next_number})
        annotator_indexes.append(next_index)
        next_index += 1
        next_number += 1

    listed = dict((row.report_id, row.number) for row in sheet.rows)
    next_row = max(sheet.last_row, HEADER_ROW) + 1
    rows = []
    for report_id, chosen in assignment:
        if report_id in listed:
            number, appended = listed[report_id], False
        else:
            number, appended = next_row, True
            next_row += 1
        rows.append({"row": number, "id": report_id, "batch": batch, "annotators": chosen,
                     "appended": appended})
    rows.sort(key=lambda row: row["row"])
    counts = dict((name, 0) for name in names)
    for _report_id, chosen in assignment:
        for name in chosen:
            counts[name] += 1
    return GeneratedBatch(batch, rows, new_columns, counts, sheet.id_column.index,
                          sheet.batch_column.index, annotator_indexes), []


def apply_generated_batch(worksheet, generated):
    """Write the batch's cells into an openpyxl worksheet; nothing else is touched.

    Raises SheetChangedError if a cell to fill is no longer empty (the file changed since the
    plan was made), before writing anything.
    """
    from openpyxl.utils import get_column_letter

    for row in generated.rows:
        if row["appended"]:
            cells = [generated.id_index, generated.batch_index] + generated.annotator_indexes
        else:
            listed = worksheet.cell(row=row["row"], column=generated.id_index).value
            if normalize_id(listed) != row["id"]:
                raise SheetChangedError("row %d holds report %r, not %s; the sheet changed since "
                                        "it was read, run again" % (row["row"], listed, row["id"]))
            cells = [generated.batch_index] + generated.annotator_indexes
        for index in cells:
            value = worksheet.cell(row=row["row"], column=index).value
            if value is not None and str(value).strip():
                raise SheetChangedError("row %d, column %d holds %r; the sheet changed since it "
                                        "was read, run again" % (row["row"], index, value))

    # New annotator columns look like the first one: header style and width.
    model = generated.annotator_indexes[0]
    header_style_source = worksheet.cell(row=HEADER_ROW, column=model)
    dimensions = worksheet.column_dimensions  # creates entries on lookup: test with "in"
    model_letter = get_column_letter(model)
    for column in generated.new_columns:
        cell = worksheet.cell(row=HEADER_ROW, column=column["index"])
        cell.value = column["name"]
        _copy_style(header_style_source, cell)
        if model_letter in dimensions and column["column"] not in dimensions:
            dimensions[column["column"]].width = dimensions[model_letter].width

    for row in generated.rows:
        number = row["row"]
        values = [(generated.batch_index, row["batch"])]
        values += list(zip(generated.annotator_indexes, row["annotators"]))
        if row["appended"]:
            values.insert(0, (generated.id_index, row["id"]))
        for index, value in values:
            cell = worksheet.cell(row=number, column=index)
            cell.value = value
            # New rows look like the one above (number format, font, borders) unless styled.
            if row["appended"] and number - 1 > HEADER_ROW:
                _copy_style(worksheet.cell(row=number - 1, column=index), cell)


def _copy_style(source, target):
    if source.has_style and not target.has_style:
        target._style = copy.copy(source._style)


def backup_path(path, now=None):
    """assignments.xlsx -> assignments.backup-20250101-120000.xlsx (never an existing file)."""
    now = now or datetime.datetime.now()
    stem, suffix = os.path.splitext(path)
    candidate = "%s.backup-%s%s" % (stem, now.strftime("%Y%m%d-%H%M%S"), suffix)
    counter = 2
    while os.path.exists(candidate):
        candidate = "%s.backup-%s-%d%s" % (stem, now.strftime("%Y%m%d-%H%M%S"), counter, suffix)
        counter += 1
    return candidate


def write_generated_batch(path, generated, now=None):
    """Back the sheet up, then replace it atomically with the batch added. Returns the backup."""
    from openpyxl import load_workbook

    # Not read_only/data_only: keep formulas, styles and column widths for the rewrite.
    workbook = load_workbook(path)
    apply_generated_batch(workbook.worksheets[0], generated)
    updated = io.BytesIO()
    workbook.save(updated)

    with open(path, "rb") as handle:
        original = handle.read()
        mode = stat.S_IMODE(os.fstat(handle.fileno()).st_mode)
    backup = backup_path(path, now)
    # The backup holds study data: private from the start, whatever the sheet's own mode.
    write_atomic(backup, original, 0o600)
    write_atomic(path, updated.getvalue(), mode)
    return backup
