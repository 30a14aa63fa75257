"""Shared fixtures: one Label Studio environment per test run, deployed instances."""
from __future__ import annotations

import inspect
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from support.cache import UnsafeCacheDir, cache_dir
from support.background import Background, at_once
from support.instance import DEFAULT_VERSION, Instance, on_node, shut_down
from support.net import free_port
from support.paths import use_project_module_utils

# Tests import the project's module_utils the way modules do (ansible.module_utils.X).
use_project_module_utils()

# Installing Label Studio takes ~20 s with uv and ~3 min with pip: do it once per run (and keep
# it between runs on the same machine). World-readable and built on Debian's /usr/bin/python3
# (see support/instance.py) so the SSH rig's unprivileged node account can use it too; owner and
# mode of its path checked before use (support/cache.py).
# What this run could not prove, and why (e.g. no Python 3.9 for the 1.6.0 test). A skip alone is
# one letter in pytest's summary; these lines end the run loudly, and tests/run-all repeats them
# last from the file named by LS_STUDY_NOT_TESTED.
NOT_TESTED: list[str] = []


@pytest.fixture
def not_tested():
    """not_tested(what, why): record the gap, then skip the test with the same line as reason."""
    def record(what: str, why: str):
        line = f"NOT TESTED: {what}: {why}"
        NOT_TESTED.append(line)
        if os.environ.get("LS_STUDY_NOT_TESTED"):
            with open(os.environ["LS_STUDY_NOT_TESTED"], "a") as handle:
                handle.write(line + "\n")
        pytest.skip(line)
    return record


def pytest_terminal_summary(terminalreporter):
    for line in NOT_TESTED:
        terminalreporter.write_line(line, red=True, bold=True)


@pytest.fixture(scope="session")
def cache() -> Path:
    try:
        return cache_dir()
    except UnsafeCacheDir as err:
        pytest.fail(str(err), pytrace=False)


@pytest.fixture(scope="session")
def env_dir(cache) -> Path:
    return cache / f"env-{DEFAULT_VERSION}-system-python"


@pytest.fixture(scope="session")
def make_instance(tmp_path_factory, env_dir):
    """Factory for instances in fresh data dirs on free ports; all stopped at the end."""
    def make(**extra) -> Instance:
        base = tmp_path_factory.mktemp("ls")
        inst = Instance(data_dir=base / "data", port=free_port(), env_dir=env_dir,
                        credentials_dir=base / "credentials", extra=extra)
        LOCAL_INSTANCES.append(inst)
        return inst

    yield make
    _shut_down_local_instances()


LOCAL_INSTANCES: list[Instance] = []


def _shut_down_local_instances() -> None:
    """End of the session (make_instance's teardown, or earlier beside node_study's removal):
    every local instance made, shut down at once, and its state dir removed. Only once."""
    BACKGROUND.close()  # a deploy still running in the background is not shut down half-way
    made = list(LOCAL_INSTANCES)
    LOCAL_INSTANCES.clear()
    shut_down([inst for inst in made if inst.state_dir.exists()])
    # A state dir lives in the account's home (~/.local/state/label-studio/ls-*) and holds the
    # instance's secrets (api_token, service.env's SECRET_KEY, backup.key): a run leaves none
    # behind (each run left ~17 before). The data and credentials dirs are pytest's temp dirs,
    # which pytest prunes itself.
    for inst in made:
        shutil.rmtree(inst.state_dir, ignore_errors=True)


# The shared `server` uses the supervisor scheduler: its deploy then writes no crontab line at
# all, whatever runs beside it. The cron scheduler is tested by test_deploy, test_backup and
# test_scheduler.
SERVER_VARS = {"label_studio_scheduler": "supervisor"}
BACKGROUND = Background()
# How many modules ahead deploy_ahead starts: one was too few, a short module before (e.g.
# test_study_controller_modules before test_study_flow) left the deploy to run in the foreground.
# The one background thread still deploys in module order. It keeps deploying while the syslog
# test listens: that test keeps only messages tagged by its own runs (and background runs log
# nothing there, no_target_syslog), so a deploy beside it is neither heard nor missed.
LOOKAHEAD = 3
REPO_TESTS = Path(__file__).resolve().parent


def _modules_in_order(session) -> list:
    seen: list = []
    for item in session.items:
        if item.module not in seen:
            seen.append(item.module)
    return seen


def _deploy(instances, how=None) -> tuple:
    """(instances, their deploy runs), deployed at once; `how(inst)` instead of inst.deploy()
    where a module's deploy_how wraps the deploy (e.g. in an argv watch)."""
    return instances, tuple(at_once(*((lambda inst=inst: how(inst)) if how else inst.deploy
                                      for inst in instances)))


def _made_ahead(module, request) -> tuple:
    """The module's deploy_ahead(...) called with the fixtures its parameters name (e.g.
    make_instance, make_node_instance, tmp_path_factory: session-scoped ones only)."""
    names = inspect.signature(module.deploy_ahead).parameters
    made = module.deploy_ahead(*(request.getfixturevalue(name) for name in names))
    return made if isinstance(made, tuple) else (made,)


def _schedule(request) -> None:
    """Start what can start now: the shared server (if a selected test uses it) and the next
    module's deploy_ahead, once the shared environment exists."""
    session = request.session
    if not hasattr(session, "_ls_modules"):
        session._ls_modules = _modules_in_order(session)
        session._ls_wants_server = any("server" in item.fixturenames for item in session.items)
        session._ls_fixtures = {}
        for item in session.items:
            session._ls_fixtures.setdefault(item.module, set()).update(item.fixturenames)
    if not session._ls_wants_server and not any(hasattr(m, "deploy_ahead") or "node_study" in session._ls_fixtures[m]
                                                for m in session._ls_modules):
        return
    try:
        if not (request.getfixturevalue("env_dir") / "bin/label-studio").exists():
            return
        make = request.getfixturevalue("make_instance")
        factory = request.getfixturevalue("tmp_path_factory")
    except (Exception, pytest.fail.Exception):  # e.g. an unsafe cache: the tests report it
        return
    if session._ls_wants_server and not BACKGROUND.started("server"):
        made = (make(**SERVER_VARS),)
        BACKGROUND.submit("server", lambda: _deploy(made))
    modules = session._ls_modules
    if request.module in modules:
        position = modules.index(request.module)
        for module in modules[position + 1:position + 1 + LOOKAHEAD]:
            if "node_study" in session._ls_fixtures[module] and not BACKGROUND.started("node_study"):
                try:
                    made = (_node_study_made(request.getfixturevalue("make_node_instance"), factory),)
                except Exception:  # raised again where the tests use it
                    made = None
                if made:
                    BACKGROUND.submit("node_study", lambda made=made: _deploy(made))
            if hasattr(module, "deploy_ahead") and not BACKGROUND.started(module.__name__):
                try:
                    made = _made_ahead(module, request)
                except Exception:  # raised again, in that module's own tests (deployed_ahead)
                    continue
                BACKGROUND.submit(module.__name__, lambda made=made, module=module:
                                  _deploy(made, getattr(module, "deploy_how", None)))


@pytest.fixture(scope="module", autouse=True)
def _start_ahead_at_module_start(request):
    _schedule(request)  # before the module's own fixtures


def pytest_collection_modifyitems(session, config, items):
    """Unit tests first (they need no server, ~25 s): the background thread deploys the shared
    server and the first modules' deploy_ahead meanwhile, instead of while integration tests
    deploy their own instances on the same two cores."""
    unit = REPO_TESTS / "unit"
    items.sort(key=lambda item: 0 if unit in Path(str(item.path)).parents else 1)  # stable


@pytest.fixture(autouse=True)
def _start_ahead_at_each_test(request):
    _schedule(request)  # e.g. on a fresh machine, once the first deploy has built the environment


@pytest.fixture(scope="module")
def deployed_ahead(request, make_instance, tmp_path_factory) -> tuple:
    """The module's deploy_ahead instances and their deploy runs (for the module to judge),
    started in the background while the modules before ran, or deployed now; each through the
    module's deploy_how(inst) if it has one, else inst.deploy()."""
    module = request.module
    return BACKGROUND.result(module.__name__, lambda: _deploy(_made_ahead(module, request),
                                                              getattr(module, "deploy_how", None)))


@pytest.fixture(scope="session")
def server(make_instance) -> Instance:
    """One deployed, healthy instance shared by the module and study tests."""
    (inst,), (run,) = BACKGROUND.result("server", lambda: _deploy((make_instance(**SERVER_VARS),)))
    run.assert_ok()
    return inst


@pytest.fixture(scope="session")
def ssh_node(tmp_path_factory):
    """An unprivileged account on a loopback sshd: the "cluster node" of the tests (the only one:
    every test that needs a node uses this fixture or make_node_instance)."""
    from support.sshnode import start_node

    workdir = tmp_path_factory.mktemp("sshnode")
    control = workdir / "cp"
    control.mkdir()
    os.environ["ANSIBLE_SSH_CONTROL_PATH_DIR"] = str(control)
    node = start_node(workdir)
    yield node
    for sock in control.iterdir():
        subprocess.run(["ssh", "-O", "exit", "-o", f"ControlPath={sock}", "x"], capture_output=True)
    node.close()


@pytest.fixture(scope="session")
def make_node_instance(ssh_node, env_dir, tmp_path_factory):
    """Factory for instances on the node account (support.instance.on_node), not yet deployed:
    make_node_instance(prefix, credentials_dir=None, **extra). Tests call inst.remove() when done;
    whatever they left is removed at the end of the session."""
    made: list[Instance] = []

    def make(prefix: str = "test", credentials_dir: Path | None = None, **extra) -> Instance:
        credentials = credentials_dir or tmp_path_factory.mktemp(f"node-{prefix}") / "credentials"
        inst = on_node(ssh_node, env_dir, credentials, prefix, **extra)
        made.append(inst)
        return inst

    yield make
    for inst in made:
        if not inst.removed:
            inst.remove()


def _node_study_made(make_node_instance, tmp_path_factory) -> Instance:
    from support.paths import REPO

    work = tmp_path_factory.mktemp("node-study")
    (work / "assignments.xlsx").write_bytes((REPO / "files/study/assignments.xlsx").read_bytes())
    inst = make_node_instance("study", credentials_dir=work / "credentials",
                              study_assignments=str(work / "assignments.xlsx"),
                              study_task_files_dir=str(work / "tasks"),
                              study_export_dir=str(work / "exports"), study_export_date="20261127")
    inst.work = work
    return inst


@pytest.fixture(scope="session")
def node_study(make_node_instance, tmp_path_factory):
    """The example study's instance on the node account, deployed, nothing assigned yet: one
    node deploy for test_export_ssh (assigns, annotates and exports through it) and test_tunnel
    (needs a Label Studio on the node behind its tunnels, and changes nothing in it). Deployed
    in the background ahead of the first module that uses it, like a deploy_ahead."""
    (inst,), (run,) = BACKGROUND.result(
        "node_study", lambda: _deploy((_node_study_made(make_node_instance, tmp_path_factory),)))
    run.assert_ok()
    yield inst
    # The end of the session: the node's stop (a playbook over SSH) while the local instances
    # shut down, not one after the other.
    removed, _ = at_once(inst.remove, _shut_down_local_instances)
    removed.assert_ok()
