"""Shared pieces of the bench/ scripts: deployed instances, study-shaped data, timing, tables.

The scripts reuse the test support (tests/support) so they deploy exactly like the tests do:
the project's own deploy.yml, a fresh data dir in a temp dir, a free port.
"""
from __future__ import annotations

import contextlib
import json
import os
import platform
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# The bench scripts' one import-path setup: tests/support (as pytest.ini's `pythonpath = tests` gives
# the tests), and the project's module_utils as ansible.module_utils.X, as the modules import them.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from support.paths import REPO, use_project_module_utils  # noqa: E402

use_project_module_utils()

from support.cache import cache_dir  # noqa: E402
from support.instance import DEFAULT_VERSION, Instance  # noqa: E402
from support.modules import module_command, module_env  # noqa: E402
from support.net import free_port  # noqa: E402
from support.playbook import run_playbook  # noqa: E402
from support.postgres import start_server  # noqa: E402

# The tests' shared environment (built on /usr/bin/python3); deploy reuses it without installing.
# cache_dir() refuses (UnsafeCacheDir) a dir another account could have written to.
SHARED_ENV = cache_dir() / f"env-{DEFAULT_VERSION}-system-python"
STUDY_CONFIG = REPO / "files/study/label-config.xml"
SYSTEMS = ["bertabs", "gsum_thresholding", "wgsum", "wgsum+cl"]
WORDS = ("no acute cardiopulmonary process mild cardiomegaly stable small left right pleural "
         "effusion apical pneumothorax interval improvement bibasilar atelectasis consolidation "
         "recommend follow-up radiograph compared prior study unchanged").split()

__all__ = ["DEFAULT_VERSION", "Instance", "REPO", "SHARED_ENV", "STUDY_CONFIG", "deployed_instance",
           "free_port", "machine_note", "print_table", "ratio", "run_measured", "run_module_measured",
           "run_playbook", "stop_and_remove", "stop_instance", "study_result", "study_task",
           "throwaway_postgresql", "verdict"]


def text(seed: int, length: int = 150) -> str:
    """Deterministic report-like text of nearly `length` characters (synthetic, never real data)."""
    words, size, k = [], 0, 0
    while True:
        word = WORDS[(seed * 7919 + k * 31) % len(WORDS)]
        if size + len(word) + 1 > length - 1:
            return " ".join(words).capitalize() + "."
        words.append(word)
        size, k = size + len(word) + 1, k + 1


def study_task(i: int) -> dict:
    """One task shaped like the study's: key, batch, impression, four candidates, their order."""
    order = SYSTEMS[i % 4:] + SYSTEMS[:i % 4]
    task = {"study_id": 50000000 + i, "batch": f"batch{i % 3 + 1}", "impression": text(i),
            "order": order}
    task.update({f"candidate{c}": text(i * 4 + c + 1) for c in range(4)})
    return task


def study_result(i: int, impression: str) -> list:
    """An annotation result for the study's label config (files/study/label-config.xml)."""
    end = impression.find(" ") if " " in impression else len(impression)
    return [
        {"from_name": "candidate0-labels-omissions", "to_name": "reference0", "type": "labels",
         "value": {"start": 0, "end": end, "text": impression[:end],
                   "labels": ["1a"]}},
        {"from_name": f"candidate{i % 4}-errors", "to_name": f"candidate{i % 4}", "type": "choices",
         "value": {"choices": ["4. Incorrect severity of finding"]}},
        {"from_name": "duration-minutes", "to_name": "reference0", "type": "textarea",
         "value": {"text": [str(i % 9 + 1)]}},
    ]


@contextlib.contextmanager
def deployed_instance(name: str, env_dir: Path = SHARED_ENV, keep: bool = False):
    """(instance, temp base dir): deployed with deploy.yml; always stopped and removed at the end."""
    base = Path(tempfile.mkdtemp(prefix=f"bench-{name}-", dir="/var/tmp"))
    inst = Instance(data_dir=base / "data", port=free_port(), env_dir=env_dir,
                    credentials_dir=base / "credentials")
    try:
        print(f"deploying an instance in {base} (port {inst.port}, env {env_dir}) ...", flush=True)
        start = time.monotonic()
        inst.deploy().assert_ok()
        print(f"deployed in {time.monotonic() - start:.1f} s", flush=True)
        yield inst, base
    finally:
        stop_and_remove(inst, base, keep)


@contextlib.contextmanager
def throwaway_postgresql(base: Path):
    """(inventory path, deploy vars) for Label Studio on this machine against a throwaway
    PostgreSQL server from Debian's packages on 127.0.0.2 (tests/support/postgres.py), given to
    deploy as the inventory's label_studio_db host (as root, which an own cluster refuses). The
    server is stopped at the end."""
    server = start_server("127.0.0.2")
    try:
        password = secrets.token_urlsafe(18)
        server.create_database("label_studio", "label_studio", password)
        inventory = base / "hosts.yml"
        inventory.write_text("label_studio:\n  hosts:\n    localhost:\n      ansible_connection: local\n"
                             "      ansible_python_interpreter: \"{{ ansible_playbook_python }}\"\n"
                             "label_studio_db:\n  hosts:\n    dbhost:\n      ansible_host: 127.0.0.2\n")
        yield inventory, {"label_studio_database": "postgresql",
                          "label_studio_postgresql_port": server.port,
                          "label_studio_postgresql_password": password}
    finally:
        server.stop()


def stop_instance(inst: Instance) -> None:
    """Stop the instance (service, supervisord, crontab lines) with deploy.yml if it was started."""
    if inst.state_dir.exists() and (inst.env_dir / "bin/supervisorctl").exists():
        run = inst.stop()
        if run.returncode != 0:
            print(f"WARNING: stopping {inst.name} failed:\n{run.output[-2000:]}", file=sys.stderr)


def stop_and_remove(inst: Instance, base: Path, keep: bool = False, stopped: bool = False) -> None:
    """Stop the instance unless `stopped`, then remove its temp dir and its state dir."""
    try:
        if not stopped:
            stop_instance(inst)
    finally:
        if keep:
            print(f"kept {base} and {inst.state_dir}")
        else:
            shutil.rmtree(inst.state_dir, ignore_errors=True)
            shutil.rmtree(base, ignore_errors=True)


def run_measured(argv: list, **popen) -> tuple:
    """(seconds, max RSS in MB of the process tree, returncode, output) of one command.

    wait4() returns the child's rusage including its reaped descendants, so ru_maxrss is the
    largest resident set of any process in that tree (not their sum).
    """
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, **popen)
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.monotonic() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return seconds, usage.ru_maxrss / 1024, proc.returncode, output.decode(errors="replace")


def run_module_measured(name: str, args: dict, env: dict | None = None) -> tuple:
    """(seconds, max RSS MB, result dict) of one module run through `ansible` (ad hoc, localhost).

    Same invocation as tests/support/modules.run_module (the tree callback writes the result);
    env: more environment for ansible.
    """
    with tempfile.TemporaryDirectory() as tree:
        seconds, rss, rc, output = run_measured(module_command(name, args), cwd=REPO,
                                                env=dict(module_env(tree), **(env or {})))
        result_file = Path(tree) / "localhost"
        if not result_file.exists():
            raise RuntimeError(f"no result from ansible for {name}:\n{output[-3000:]}")
        result = json.loads(result_file.read_text())
    result["rc"] = rc
    if rc != 0:
        raise RuntimeError(f"{name} failed (rc {rc}): {result.get('msg')}\n{output[-3000:]}")
    return seconds, rss, result


def ratio(a: float, b: float) -> float:
    return a / b if b else float("inf")


def verdict(value: float, goal: float, strict: bool = False) -> str:
    met = value < goal if strict else value <= goal
    return f"goal {'<' if strict else '≤'} {goal:g}: {'met' if met else 'NOT met'}"


def print_table(headers: list, rows: list, left: tuple = (0,)) -> None:
    """A plain aligned text table: columns in `left` left-aligned, the others right-aligned."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row):
        return "  ".join(c.ljust(widths[i]) if i in left else c.rjust(widths[i])
                         for i, c in enumerate(row)).rstrip()
    print(line(cells[0]))
    print("  ".join("-" * w for w in widths))
    for row in cells[1:]:
        print(line(row))


def machine_note() -> str:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"{time.strftime('%Y-%m-%d %H:%M %Z')}  {platform.node()}  {os.cpu_count()} cores "
            f"(shared: other sessions' tests may be running), load average {load}")
