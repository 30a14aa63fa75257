"""The env role's conda path, driven against a STAND-IN conda (tests/standins/conda).

Real conda is not reachable from the test machine. The stand-in records the command line the
role issues and builds a venv at --prefix, so this proves which conda commands the role runs and
that the rest of the role works on the resulting env; it does not prove real conda accepts them.
"""
from __future__ import annotations

import os

from support.instance import DEFAULT_VERSION
from support.playbook import REPO, run_playbook

ENV_ONLY = """\
- name: Build only the Label Studio environment
  hosts: label_studio
  gather_facts: true
  gather_subset: [min]
  roles:
    - role: label_studio_env
"""


def test_auto_finds_conda_on_path_and_creates_the_env_with_it(tmp_path):
    playbook = tmp_path / "env-only.yml"
    playbook.write_text(ENV_ONLY)
    log, env_dir = tmp_path / "conda-calls.log", tmp_path / "conda-env"
    env = {"PATH": f"{REPO / 'tests/standins'}:{os.environ['PATH']}", "CONDA_STANDIN_LOG": str(log),
           "ANSIBLE_ROLES_PATH": str(REPO / "roles")}
    variables = {"label_studio_env_dir": str(env_dir), "label_studio_env_manager": "auto",
                 "label_studio_conda_python_version": "3.11", "label_studio_data_dir": str(tmp_path / "data")}
    run_playbook(str(playbook), variables, env=env).assert_ok()
    assert log.read_text().splitlines() == [f"create --yes --quiet --prefix {env_dir} python=3.11 pip"]
    assert (env_dir / "bin/label-studio").exists() and (env_dir / "bin/supervisord").exists()
    assert f"label-studio=={DEFAULT_VERSION}" in (env_dir / "label-studio-requirements.txt").read_text()
    run_playbook(str(playbook), variables, env=env).assert_unchanged()
    assert len(log.read_text().splitlines()) == 1, "a second run must not create the env again"


def test_venv_forced_even_when_conda_is_on_path(tmp_path):
    playbook = tmp_path / "env-only.yml"
    playbook.write_text(ENV_ONLY)
    log = tmp_path / "conda-calls.log"
    env = {"PATH": f"{REPO / 'tests/standins'}:{os.environ['PATH']}", "CONDA_STANDIN_LOG": str(log),
           "ANSIBLE_ROLES_PATH": str(REPO / "roles")}
    run = run_playbook(str(playbook), {"label_studio_env_dir": str(tmp_path / "venv"),
                                       "label_studio_env_manager": "venv",
                                       "label_studio_python": "/usr/bin/python3",
                                       "label_studio_installer": "uv",
                                       "label_studio_data_dir": str(tmp_path / "data")},
                       env=env, check=True)
    run.assert_ok()
    assert not log.exists(), "venv mode must not call conda"
    # A check run calls no creating command either way: the step chosen is what tells. (The uv
    # step's "Create the venv that holds this account's uv" runs for both managers.)
    assert "TASK [label_studio_env : Create the venv]" in run.output
    assert "Create the conda env" not in run.output


def test_conda_asked_for_but_missing_fails_clearly(tmp_path):
    playbook = tmp_path / "env-only.yml"
    playbook.write_text(ENV_ONLY)
    run = run_playbook(str(playbook), {"label_studio_env_dir": str(tmp_path / "e"),
                                       "label_studio_env_manager": "conda",
                                       "label_studio_data_dir": str(tmp_path / "data")},
                       env={"ANSIBLE_ROLES_PATH": str(REPO / "roles")})  # no conda on this PATH
    assert run.returncode != 0 and "neither mamba nor conda is on the node's PATH" in run.output
