"""The installer's settings reach uv and pip through their environment, never a command line.

label_studio_installer_env (proxies, index URLs: they may carry credentials) and the account's pip
settings handed to uv (uv_settings_from_pip.py) used to travel as the tasks' `environment:`, which
Ansible puts on the shell command line that runs the module: readable in /proc/PID/cmdline by every
account on the node for as long as the install runs. A process's environment is readable by its
own account only.
"""
from __future__ import annotations

import threading
from pathlib import Path

from support.playbook import REPO, run_playbook
from support.processes import cmdlines, watch_cmdlines

ENV_ONLY = """\
- name: Build only the Label Studio environment
  hosts: label_studio
  gather_facts: false
  pre_tasks:
    - name: Learn the account
      label_studio_account:
  roles:
    - role: label_studio_env
"""

# Harmless to uv: an unused variable, and a trusted host no index names.
INSTALLER_MARK = "installer-env-mark-5e1f0c"
PIP_MARK = "pip-settings-mark-9b27d4.invalid"


def environ_of_installs(stop: threading.Event, found: list) -> None:
    """Keep the environment of every `... pip install ...` process seen (same account: readable)."""
    while not stop.is_set():
        for pid, argv in cmdlines().items():
            if b"\0pip\0install\0" in argv:
                try:
                    found.append((argv, Path(f"/proc/{pid}/environ").read_bytes()))
                except OSError:
                    pass
        stop.wait(0.02)


def test_installer_settings_travel_in_the_environment_not_on_a_command_line(tmp_path):
    playbook = tmp_path / "env-only.yml"
    playbook.write_text(ENV_ONLY)
    env_dir = tmp_path / "venv"
    variables = {"label_studio_env_dir": str(env_dir), "label_studio_env_manager": "venv",
                 "label_studio_installer": "uv", "label_studio_python": "/usr/bin/python3",
                 "label_studio_data_dir": str(tmp_path / "data"),
                 "label_studio_installer_env": {"LS_STUDY_TEST_INSTALLER_MARK": INSTALLER_MARK}}
    # pip reads PIP_* variables as its settings; uv_settings_from_pip.py hands this one to uv.
    env = {"ANSIBLE_ROLES_PATH": str(REPO / "roles"), "PIP_TRUSTED_HOST": PIP_MARK}
    stop, installs = threading.Event(), []
    watcher = threading.Thread(target=environ_of_installs, args=(stop, installs))
    watcher.start()
    try:
        with watch_cmdlines(interval=0.01) as seen:
            # -vvv: module arguments (the installer's stdin among them) show unless no_log hides them.
            run = run_playbook(str(playbook), variables, env=env, extra_args=["-vvv"])
    finally:
        stop.set()
        watcher.join()
    run.assert_ok()
    assert (env_dir / "bin/label-studio").exists()
    leaked = [argv for argv in seen if INSTALLER_MARK.encode() in argv or PIP_MARK.encode() in argv]
    assert not leaked, [argv.replace(b"\0", b" ")[:300] for argv in leaked]
    assert INSTALLER_MARK not in run.output and PIP_MARK not in run.output
    # ...and both still reach the installer, in its environment.
    uv_installs = [environ for argv, environ in installs if b"/uv\0pip\0install\0" in argv]
    assert uv_installs, "no uv install was seen"
    assert any(f"LS_STUDY_TEST_INSTALLER_MARK={INSTALLER_MARK}".encode() in environ
               and f"UV_INSECURE_HOST={PIP_MARK}".encode() in environ for environ in uv_installs)
