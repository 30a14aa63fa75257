# -*- coding: utf-8 -*-
"""The study's report records (reports.json): read, and indexed by report id."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible.module_utils.study_sheet import StudyDataError, normalize_id


# Task data fields the import adds to each report record (besides the key, e.g. study_id).
BATCH_FIELD = "batch"


def load_reports(path):
    """Parse reports.json (a JSON array of records). Raises StudyDataError if unreadable."""
    try:
        with open(path, "rb") as handle:
            return json.loads(handle.read().decode("utf-8"))
    except (IOError, OSError) as err:
        raise StudyDataError("cannot read %s: %s" % (path, err))
    except ValueError as err:
        raise StudyDataError("%s is not valid JSON: %s" % (path, err))


def index_reports(records, path, key):
    """Map normalized id -> record, in the file's order; problems name records by position."""
    problems = []
    by_id = {}
    if not isinstance(records, list):
        return by_id, ["%s: expected a JSON array of report records, found %s"
                       % (path, type(records).__name__)]
    for position, record in enumerate(records, start=1):
        where = "%s record %d" % (path, position)
        if not isinstance(record, dict):
            problems.append("%s: expected an object, found %s" % (where, type(record).__name__))
            continue
        report_id = normalize_id(record.get("id"))
        if report_id is None:
            problems.append("%s: no \"id\"" % where)
            continue
        where = "%s record %d (id %s)" % (path, position, report_id)
        if report_id in by_id:
            problems.append("%s: id appears again (first in record %d)"
                            % (where, by_id[report_id][0]))
            continue
        for reserved, purpose in ((key, "the report id"), (BATCH_FIELD, "the batch name")):
            if reserved in record:
                problems.append("%s: has a field \"%s\", which the task data uses for %s"
                                % (where, reserved, purpose))
        by_id[report_id] = (position, record)
    return {report_id: record for report_id, (_pos, record) in by_id.items()}, problems
