"""The supervisor scheduler's reading of crontab fields (label_studio_node/scheduler.py)."""
from __future__ import annotations

from datetime import datetime

import pytest

from support import node_package  # noqa: F401  (puts label_studio_node on sys.path)
from label_studio_node import scheduler  # noqa: E402


def runs(schedule: dict, after: datetime, count: int) -> list[str]:
    parsed, restricted = scheduler.parse_schedule(schedule)
    out, moment = [], after
    for _ in range(count):
        moment = scheduler.next_run(parsed, restricted, moment)
        out.append(moment.strftime("%Y-%m-%d %H:%M"))
    return out


def test_the_default_schedule_runs_at_minute_5_every_12_hours():
    schedule = {"minute": "5", "hour": "*/12", "day": "*", "month": "*", "weekday": "*"}
    assert runs(schedule, datetime(2026, 11, 30, 3, 0), 3) == [
        "2026-11-30 12:05", "2026-12-01 00:05", "2026-12-01 12:05"]


def test_a_run_never_repeats_the_current_minute():
    schedule = {"minute": "*", "hour": "*", "day": "*", "month": "*", "weekday": "*"}
    assert runs(schedule, datetime(2026, 11, 30, 3, 7, 59), 2) == ["2026-11-30 03:08", "2026-11-30 03:09"]


def test_lists_ranges_steps_and_names():
    parse = scheduler.parse_field
    assert parse("minute", "0,15-20/2,58") == {0, 15, 17, 19, 58}
    assert parse("hour", "22-23") == {22, 23}
    assert parse("month", "jan,Dec") == {1, 12}
    assert parse("weekday", "mon-fri") == {1, 2, 3, 4, 5}
    assert parse("weekday", "7") == {0, 7}          # Sunday either way
    assert parse("minute", "50/5") == {50, 55}      # N/step runs from N to the end


def test_day_and_weekday_are_ored_when_both_are_restricted():
    # crontab(5): "30 4 1,15 * 5" runs on the 1st and 15th and on every Friday.
    schedule = {"minute": "30", "hour": "4", "day": "1,15", "month": "*", "weekday": "5"}
    assert runs(schedule, datetime(2026, 11, 30, 0, 0), 4) == [
        "2026-12-01 04:30", "2026-12-04 04:30", "2026-12-11 04:30", "2026-12-15 04:30"]
    # Only the weekday restricted: Fridays only.
    only_friday = {"minute": "0", "hour": "0", "day": "*", "month": "*", "weekday": "fri"}
    assert runs(only_friday, datetime(2026, 11, 30, 0, 0), 2) == ["2026-12-04 00:00", "2026-12-11 00:00"]


@pytest.mark.parametrize("field,text", [("minute", "60"), ("hour", "x"), ("day", "0"),
                                        ("minute", "5-1"), ("minute", "*/0"), ("minute", "1,,2")])
def test_bad_fields_are_refused_with_the_field_named(field, text):
    with pytest.raises(scheduler.ScheduleError, match=field):
        scheduler.parse_field(field, text)


def test_a_schedule_that_never_matches_is_refused():
    parsed, restricted = scheduler.parse_schedule({"minute": "0", "hour": "0", "day": "31", "month": "2"})
    with pytest.raises(scheduler.ScheduleError, match="never matches"):
        scheduler.next_run(parsed, restricted, datetime(2026, 1, 1))
