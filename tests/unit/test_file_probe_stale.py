"""The roles write only what differs (issue 16): label_studio_instance's file probe reads modes
and sha1s on the node, and label_studio_file_probe_stale, written once for every role, says
which wanted paths are not so. Both are rendered here as Ansible renders them: the real probe
runs on real files, its output goes through the real comparison."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

INSTANCE_VARS = Path(__file__).resolve().parents[2] / "roles/label_studio_instance/vars/main.yml"


def render(expression: str, **variables):
    loader = DataLoader()
    names = loader.load_from_file(str(INSTANCE_VARS), trusted_as_template=True)
    return Templar(loader=loader, variables={**names, **variables}).template(
        trust_as_template(expression))


def stale(result: dict, wanted: dict) -> list:
    return render("{{ label_studio_file_probe_stale }}", label_studio_file_probe_result=result,
                  label_studio_file_probe_wanted=wanted)


@pytest.fixture
def probe(tmp_path):
    """Runs the probe's argv (label_studio_file_probe) on paths and returns what a role's raw task
    registers (rc, stdout, stdout_lines); `banner` is printed first, as a node account's shell
    start-up does over SSH."""
    env_bin = tmp_path / "env" / "bin"
    env_bin.mkdir(parents=True)
    (env_bin / "python").symlink_to(sys.executable)
    argv = render("{{ label_studio_file_probe }}", label_studio_env_dir=str(tmp_path / "env"))

    def run(*paths: Path, banner: str = "") -> dict:
        done = subprocess.run(argv + [str(p) for p in paths], capture_output=True, text=True)
        stdout = banner + done.stdout
        return {"rc": done.returncode, "stdout": stdout, "stdout_lines": stdout.splitlines()}
    return run


def sha1(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def test_only_what_differs_is_stale(tmp_path, probe):
    as_wanted = tmp_path / "as-wanted"
    as_wanted.write_text("same\n")
    as_wanted.chmod(0o600)
    other_text = tmp_path / "other-text"
    other_text.write_text("changed by hand\n")
    other_text.chmod(0o600)
    other_mode = tmp_path / "other-mode"
    other_mode.write_text("same\n")
    other_mode.chmod(0o644)
    private_dir = tmp_path / "private"
    private_dir.mkdir(mode=0o700)
    open_dir = tmp_path / "open"
    open_dir.mkdir()
    open_dir.chmod(0o755)
    leftover = tmp_path / "leftover"
    leftover.write_text("x")
    missing = tmp_path / "missing"
    gone = tmp_path / "gone"
    paths = [as_wanted, other_text, other_mode, private_dir, open_dir, leftover, missing, gone]
    wanted = {
        str(as_wanted): "0600 " + sha1("same\n"),
        str(other_text): "0600 " + sha1("same\n"),
        str(other_mode): "0600 " + sha1("same\n"),
        str(private_dir): "dir 0700",
        str(open_dir): "dir 0700",
        str(leftover): "absent",
        str(missing): "0600 " + sha1("new\n"),
        str(gone): "absent",
    }
    assert stale(probe(*paths), wanted) == [
        str(other_text), str(other_mode), str(open_dir), str(leftover), str(missing)]


def test_nothing_is_stale_when_everything_is_as_wanted(tmp_path, probe):
    private_dir = tmp_path / "private"
    private_dir.mkdir(mode=0o700)
    assert stale(probe(private_dir), {str(private_dir): "dir 0700",
                                      str(tmp_path / "absent"): "absent"}) == []


def test_a_banner_before_the_probes_answer_is_not_read(tmp_path, probe):
    private_dir = tmp_path / "private"
    private_dir.mkdir(mode=0o700)
    answer = probe(private_dir, banner='Welcome to the cluster {"x": 1}\n')
    assert stale(answer, {str(private_dir): "dir 0700"}) == []


@pytest.mark.parametrize("result", [
    {"rc": 2, "stdout": ""},               # the environment's Python is not there yet
    {"skipped": True, "changed": False},   # the probe task did not run
], ids=["failed", "skipped"])
def test_everything_is_stale_when_the_probe_did_not_answer(result):
    # Then every write task runs, exactly as it would without a probe.
    wanted = {"/d": "dir 0700", "/f": "0600 " + sha1(""), "/gone": "absent"}
    assert stale(result, wanted) == list(wanted)


def test_the_probe_reports_what_the_roles_compare(tmp_path, probe):
    script = tmp_path / "launcher"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o700)
    assert json.loads(probe(script, tmp_path)["stdout"]) == {
        str(script): "0700 " + sha1("#!/bin/sh\n"),
        str(tmp_path): "dir %04o" % (os.stat(tmp_path).st_mode & 0o7777)}
