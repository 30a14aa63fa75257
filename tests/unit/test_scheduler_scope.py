"""Only what schedules pays the crontab probe (issue 16): label_studio_instance's entry point
`scheduler` probes crontab, its main does not, so assign, export and status (which run the
instance role for its names) never ask crontab; every entry point that reads the facts it sets
runs it first."""
from __future__ import annotations

from pathlib import Path

import yaml

ROLES = Path(__file__).resolve().parents[2] / "roles"
FACTS = ("label_studio_cron_usable", "label_studio_scheduler_in_use")
# The task files that run the scheduler entry point first, and for each task file that reads the
# facts, the one of them that runs it (itself, or the entry point that imports it).
RUNS_SCHEDULER = {("label_studio_service", "launch"), ("label_studio_service", "stop"),
                  ("label_studio_backup", "install"), ("label_studio_backup", "unschedule")}
IMPORTED_BY = {("label_studio_service", "supervise"): ("label_studio_service", "launch"),
               ("label_studio_backup", "schedule"): ("label_studio_backup", "install")}


def includes_scheduler(path: Path) -> bool:
    for task in yaml.safe_load(path.read_text()) or []:
        args = task.get("ansible.builtin.include_role") or {}
        if args.get("name") == "label_studio_instance" and args.get("tasks_from") == "scheduler":
            return True
    return False


def test_crontab_is_probed_only_by_the_scheduler_entry_point():
    probing = sorted(str(p.relative_to(ROLES)) for p in ROLES.glob("*/tasks/*.yml")
                     if "crontab -l" in p.read_text())
    assert probing == ["label_studio_instance/tasks/scheduler_probe.yml"]
    assert "scheduler_probe" not in (ROLES / "label_studio_instance/tasks/main.yml").read_text()


def test_entry_points_that_read_the_facts_run_the_scheduler_first():
    readers = {(p.parts[-3], p.stem) for p in ROLES.glob("*/tasks/*.yml")
               if any(fact in p.read_text() for fact in FACTS)
               and p.parts[-3] != "label_studio_instance"}
    assert readers, "no task file reads the facts: the test looks in the wrong place"
    assert {IMPORTED_BY.get(r, r) for r in readers} <= RUNS_SCHEDULER
    for role, entry in sorted(RUNS_SCHEDULER):
        assert includes_scheduler(ROLES / role / "tasks" / f"{entry}.yml"), (role, entry)
