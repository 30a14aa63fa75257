"""Only what schedules pays the crontab probe (issue 16): label_studio_instance's entry point
`scheduler` probes crontab, its main does not, so assign, export and status (which run the
instance role for its names) never ask crontab; every entry point that reads the facts it sets
runs it first."""
from __future__ import annotations

import re
from pathlib import Path

import yaml

from support.playbook import walk_tasks

ROLES = Path(__file__).resolve().parents[2] / "roles"
FACTS = ("label_studio_cron_usable", "label_studio_scheduler_in_use")
# The task files that run the scheduler entry point first, and for each task file that reads the
# facts, the one of them that runs it (itself, or the entry point that imports it).
RUNS_SCHEDULER = {("label_studio_service", "launch"), ("label_studio_service", "stop"),
                  ("label_studio_backup", "install"), ("label_studio_backup", "unschedule")}
IMPORTED_BY = {("label_studio_service", "supervise"): ("label_studio_service", "launch"),
               ("label_studio_backup", "schedule"): ("label_studio_backup", "install")}


def is_scheduler_include(task: dict) -> bool:
    args = task.get("ansible.builtin.include_role") or {}
    return args.get("name") == "label_studio_instance" and args.get("tasks_from") == "scheduler"


def imported_files(task: dict) -> list:
    """The task file names a task imports or includes (one level)."""
    return [Path(task[key] if isinstance(task[key], str) else task[key]["file"]).stem
            for key in ("ansible.builtin.include_tasks", "ansible.builtin.import_tasks") if key in task]


def scheduler_runs_before_the_facts_are_read(role: str, entry: str) -> bool:
    """The entry point's first top-level task that runs the scheduler comes before every task
    that reads the facts, or imports a task file that does (IMPORTED_BY)."""
    tasks = yaml.safe_load((ROLES / role / "tasks" / f"{entry}.yml").read_text()) or []
    first = next((i for i, task in enumerate(tasks) if is_scheduler_include(task)), None)
    if first is None:
        return False
    readers = [i for i, task in enumerate(tasks)
               if any(fact in yaml.safe_dump(task) for fact in FACTS)
               or any(IMPORTED_BY.get((role, name)) == (role, entry) for name in imported_files(task))]
    return all(first < i for i in readers)


INCLUDE_ROLE = ("ansible.builtin.include_role", "ansible.builtin.import_role")
INCLUDE_TASKS = ("ansible.builtin.include_tasks", "ansible.builtin.import_tasks")
PLAYBOOKS = ROLES.parent / "playbooks"
PROBE = ROLES / "label_studio_instance/tasks/scheduler_probe.yml"


def role_entry(name: str, entry: str = "main") -> list:
    """A role's entry point task file and those of the roles it depends on (meta/main.yml)."""
    meta = yaml.safe_load((ROLES / name / "meta/main.yml").read_text()) or {}
    files = []
    for dependency in meta.get("dependencies") or []:
        files += role_entry(dependency["role"] if isinstance(dependency, dict) else dependency)
    return files + [ROLES / name / "tasks" / f"{Path(entry).stem}.yml"]


def included(tasks, here: Path) -> list:
    """The task files these tasks include or import (role entry points and plain task files)."""
    files = []
    for task in walk_tasks(tasks):
        for key in INCLUDE_ROLE:
            if key in task:
                files += role_entry(task[key]["name"], task[key].get("tasks_from", "main"))
        for key in INCLUDE_TASKS:
            if key in task:
                name = task[key] if isinstance(task[key], str) else task[key]["file"]
                # A templated name may be any file it can expand to: all of them are followed.
                matches = sorted(here.glob(re.sub(r"\{\{.*?\}\}", "*", name)))
                assert matches, f"{here}: no task file matches the include {name}"
                files += matches
    return files


def reachable(playbook: Path) -> set:
    """Every task file a playbook can run, followed through roles, includes and imports."""
    todo = []
    for play in yaml.safe_load(playbook.read_text()) or []:
        for role in play.get("roles") or []:
            todo += role_entry(role["role"] if isinstance(role, dict) else role)
        todo += included([t for key in ("pre_tasks", "tasks", "post_tasks")
                          for t in play.get(key) or []], playbook.parent)
    seen = set()
    while todo:
        path = todo.pop()
        if path not in seen and path.is_file():
            seen.add(path)
            todo += included(yaml.safe_load(path.read_text()), path.parent)
    return seen


def test_crontab_is_probed_only_by_the_scheduler_entry_point():
    probing = sorted(str(p.relative_to(ROLES)) for p in ROLES.glob("*/tasks/*.yml")
                     if "crontab -l" in p.read_text())
    assert probing == ["label_studio_instance/tasks/scheduler_probe.yml"]
    # The walk finds the probe where it is run, so its absence below means something.
    assert PROBE in reachable(PLAYBOOKS / "deploy.yml")
    for name in ("assign.yml", "export.yml", "status.yml"):
        files = reachable(PLAYBOOKS / name)
        assert ROLES / "label_studio_instance/tasks/main.yml" in files, name
        assert PROBE not in files, f"{name} reaches the crontab probe"


def test_entry_points_that_read_the_facts_run_the_scheduler_first():
    readers = {(p.parts[-3], p.stem) for p in ROLES.glob("*/tasks/*.yml")
               if any(fact in p.read_text() for fact in FACTS)
               and p.parts[-3] != "label_studio_instance"}
    assert readers, "no task file reads the facts: the test looks in the wrong place"
    assert {IMPORTED_BY.get(r, r) for r in readers} <= RUNS_SCHEDULER
    # The imports IMPORTED_BY relies on are there (one level, at the entry point's top).
    for (role, name), (_role, entry) in IMPORTED_BY.items():
        tasks = yaml.safe_load((ROLES / role / "tasks" / f"{entry}.yml").read_text()) or []
        assert any(name in imported_files(task) for task in tasks), f"{entry}.yml does not import {name}"
    for role, entry in sorted(RUNS_SCHEDULER):
        assert scheduler_runs_before_the_facts_are_read(role, entry), (role, entry)
