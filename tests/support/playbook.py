"""Run the project's real playbooks with ansible-playbook and read their recap."""
from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass

import yaml

from .paths import REPO

RECAP = re.compile(
    r"^(?P<host>\S+)\s+:\s+ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)"
    r"\s+failed=(?P<failed>\d+)",
    re.M,
)


@dataclass
class PlaybookRun:
    args: list
    returncode: int
    output: str

    @property
    def recap(self) -> dict:
        """host -> {ok, changed, unreachable, failed} from the PLAY RECAP."""
        return {m["host"]: {k: int(m[k]) for k in ("ok", "changed", "unreachable", "failed")}
                for m in RECAP.finditer(self.output)}

    @property
    def changed(self) -> int:
        return sum(h["changed"] for h in self.recap.values())

    def assert_ok(self) -> "PlaybookRun":
        assert self.returncode == 0, f"{' '.join(self.args)} failed:\n{self.output[-6000:]}"
        return self

    def ran(self, task: str) -> bool:
        """Whether the task (its banner name, "role : name") ran on any host: an ok: or changed:
        line under its banner; a skipped task has none (or no banner at all)."""
        banner = f"TASK [{task}] "
        runs = False
        for block in self.output.split("\nTASK [")[1:]:
            if ("TASK [" + block).startswith(banner):
                runs = runs or bool(re.search(r"^(ok|changed): ", block, re.M))
        return runs

    def assert_unchanged(self) -> "PlaybookRun":
        self.assert_ok()
        assert self.recap, f"no PLAY RECAP in output:\n{self.output[-3000:]}"
        assert self.changed == 0, f"expected changed=0, got {self.recap}:\n{self.output[-6000:]}"
        return self


def unfolded(output: str) -> str:
    """Ansible's output with the YAML result format's line folding undone: a long value wraps at
    spaces, and a double-quoted one breaks with an escaped line end."""
    return re.sub(r"\s+", " ", re.sub(r"\\\n\s*\\?", "", output))

def walk_tasks(tasks):
    """Every task of a task list, also those inside block/rescue/always."""
    for task in tasks or []:
        if not isinstance(task, dict):
            continue
        yield task
        for key in ("block", "rescue", "always"):
            if key in task:
                yield from walk_tasks(task[key])


def probe_guarded_tasks() -> list[str]:
    """The service's and backup's write tasks that run only for what the file probe found
    different (their `when:` or the `vars:` it reads name the role's _stale list), as
    "role : name"."""
    roles = REPO / "roles"
    names = []
    for role, files in (("label_studio_service", ["configure.yml"]),
                        ("label_studio_backup", ["install.yml", "schedule.yml"])):
        for name in files:
            for task in yaml.safe_load((roles / role / "tasks" / name).read_text()):
                if "_stale" in str(task.get("when", "")) + str(task.get("vars", "")):
                    names.append(f"{role} : {task['name']}")
    return names


def run_playbook(playbook: str, extra_vars: dict | None = None, *, inventory: str | None = None,
                 check: bool = False, diff: bool = False, extra_args: list | None = None,
                 env: dict | None = None, timeout: int = 1200,
                 wrapper: list | None = None) -> PlaybookRun:
    """Run a playbook of this repository from its root, extra vars passed in a file (not argv).

    `wrapper` prefixes the command line (e.g. to run it in another mount namespace)."""
    args = [*(wrapper or []), "ansible-playbook", playbook]
    if inventory:
        args += ["-i", inventory]
    vars_file = None
    if extra_vars:
        fd, vars_file = tempfile.mkstemp(prefix="extra-vars-", suffix=".json")
        with os.fdopen(fd, "w") as fh:
            json.dump(extra_vars, fh)
        args += ["-e", "@" + vars_file]
    if check:
        args.append("--check")
    if diff:
        args.append("--diff")
    args += extra_args or []
    full_env = dict(os.environ, ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1", PYTHONUNBUFFERED="1")
    full_env.update(env or {})
    try:
        proc = subprocess.run(args, cwd=REPO, env=full_env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, timeout=timeout)
    finally:
        if vars_file:
            os.unlink(vars_file)
    return PlaybookRun(args, proc.returncode, proc.stdout)
