"""scheduler: runs the instance's backup on a crontab schedule, for nodes where the account has no cron.

Started by the instance's supervisord (program backup-scheduler) as
`label_studio_node scheduler CONFIG.json`, CONFIG.json being
{"schedule": {"minute", "hour", "day", "month", "weekday"}, "argv": [...], "log": PATH}. At every
minute the schedule matches, it runs argv with stdout and stderr appended to the log, exactly
as the crontab line would. Runs are sequential: a backup still running when the next minute
matches makes the scheduler skip that minute (cron would start a second copy, which the backup
script's own lock would then refuse). Standard library only.
"""
import datetime
import json
import subprocess
import sys
import time

# Field: (lowest, highest) value, as crontab(5) has them. Weekday 7 is Sunday too.
FIELDS = {
    "minute": (0, 59),
    "hour": (0, 23),
    "day": (1, 31),
    "month": (1, 12),
    "weekday": (0, 7),
}
NAMES = {
    "month": ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"],
    "weekday": ["sun", "mon", "tue", "wed", "thu", "fri", "sat"],
}


class ScheduleError(ValueError):
    """A crontab field this scheduler (and cron) would not accept."""


def _value(field, text):
    names = NAMES.get(field)
    if names and text.lower() in names:
        return names.index(text.lower()) + (1 if field == "month" else 0)
    if not text.isdigit():
        raise ScheduleError("%s field: %r is not a number" % (field, text))
    low, high = FIELDS[field]
    number = int(text)
    if not low <= number <= high:
        raise ScheduleError("%s field: %d is outside %d-%d" % (field, number, low, high))
    return number


def parse_field(field, text):
    """The set of values a crontab field matches: *, N, N-M, lists, /step, month and day names."""
    low, high = FIELDS[field]
    values = set()
    for part in str(text).strip().split(","):
        if not part:
            raise ScheduleError("%s field: empty list item in %r" % (field, text))
        spec, _, step_text = part.partition("/")
        step = 1
        if step_text:
            if not step_text.isdigit() or int(step_text) == 0:
                raise ScheduleError("%s field: bad step in %r" % (field, part))
            step = int(step_text)
        if spec == "*":
            start, end = low, high
        elif "-" in spec:
            first, _, last = spec.partition("-")
            start, end = _value(field, first), _value(field, last)
            if start > end:
                raise ScheduleError("%s field: range %r runs backwards" % (field, spec))
        else:
            start = _value(field, spec)
            end = high if step_text else start
        values.update(range(start, end + 1, step))
    if field == "weekday" and 7 in values:
        values.add(0)
    return values


def parse_schedule(schedule):
    """{field: set of values} plus whether day and weekday were restricted (cron's OR rule)."""
    parsed = {field: parse_field(field, schedule.get(field, "*")) for field in FIELDS}
    restricted = {field: str(schedule.get(field, "*")).strip() != "*" for field in ("day", "weekday")}
    return parsed, restricted


def _day_matches(parsed, restricted, day):
    """Whether cron would run the job on this date (crontab(5): day and weekday are ORed when
    both are restricted)."""
    if day.month not in parsed["month"]:
        return False
    day_ok = day.day in parsed["day"]
    weekday_ok = (day.isoweekday() % 7) in parsed["weekday"]
    if restricted["day"] and restricted["weekday"]:
        return day_ok or weekday_ok
    return day_ok and weekday_ok


def next_run(parsed, restricted, after):
    """The first minute strictly after `after` (local time) that the schedule matches."""
    first = after.replace(second=0, microsecond=0) + datetime.timedelta(minutes=1)
    day = first.date()
    # Every schedule that can match does so within four years (29 February included).
    for _ in range(4 * 366 + 1):
        if _day_matches(parsed, restricted, day):
            for hour in sorted(parsed["hour"]):
                for minute in sorted(parsed["minute"]):
                    moment = datetime.datetime.combine(day, datetime.time(hour, minute))
                    if moment >= first:
                        return moment
        day += datetime.timedelta(days=1)
    raise ScheduleError("the schedule never matches (e.g. 31 February)")


def run_once(argv, log_path):
    with open(log_path, "ab") as log:
        return subprocess.call(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log)


def main(config_path):
    with open(config_path) as handle:
        config = json.load(handle)
    parsed, restricted = parse_schedule(config["schedule"])
    print("backup scheduler: %s" % " ".join(str(config["schedule"].get(f, "*")) for f in FIELDS),
          flush=True)
    while True:
        due = next_run(parsed, restricted, datetime.datetime.now())
        # Sleep in short steps: a suspended node or a clock change must not skip a run.
        while datetime.datetime.now() < due:
            time.sleep(min(30.0, max(0.5, (due - datetime.datetime.now()).total_seconds())))
        code = run_once(config["argv"], config["log"])
        print("backup scheduler: run due %s exited %d" % (due.isoformat(timespec="minutes"), code),
              flush=True)



def run(argv) -> int:
    if len(argv) != 1:
        sys.exit("usage: label_studio_node scheduler CONFIG.json")
    try:
        main(argv[0])
    except ScheduleError as err:
        sys.exit("backup scheduler: %s" % err)
    return 0
