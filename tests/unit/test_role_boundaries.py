"""Every role keeps a boundary (README "Layout").

- Another role or a playbook may run only a role's entry points: the task files its
  meta/argument_specs.yml declares (include_role/import_role with tasks_from, roles:, meta
  dependencies).
- A role's underscore names (_label_studio_...) are its own: no other role and no playbook reads
  or sets them. A name is owned by the role whose defaults, vars or tasks (set_fact, register,
  vars of a task or block) define it. Shared names are the public ones of label_studio_instance.
- A role notifies only its own handlers.
- The graph of roles (meta dependencies and include_role/import_role) has no cycle.
"""
from __future__ import annotations

import re
from pathlib import Path

import yaml

from support.playbook import walk_tasks

REPO = Path(__file__).resolve().parents[2]
ROLES = REPO / "roles"
PLAYBOOKS = sorted(REPO.glob("*.yml")) + sorted((REPO / "playbooks").glob("*.yml"))

INCLUDE_ROLE = {"include_role", "import_role", "ansible.builtin.include_role", "ansible.builtin.import_role"}
INCLUDE_TASKS = {"include_tasks", "import_tasks", "ansible.builtin.include_tasks", "ansible.builtin.import_tasks"}
SET_FACT = {"set_fact", "ansible.builtin.set_fact"}
# A private name: an underscore, then a lowercase letter ("_" alone is Jinja's throwaway).
PRIVATE = re.compile(r"(?<![A-Za-z0-9_])_[a-z][a-z0-9_]*")
JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)
JINJA_COMMENT = re.compile(r"\{#.*?#\}", re.S)


def load(path: Path):
    return yaml.safe_load(path.read_text()) or []


def role_names() -> list[str]:
    return sorted(p.name for p in ROLES.iterdir() if (p / "tasks").is_dir())


def entry_points(role: str) -> set[str]:
    specs = ROLES / role / "meta" / "argument_specs.yml"
    if not specs.is_file():
        return set()
    return set((load(specs) or {}).get("argument_specs", {}) or {})


def plays(path: Path):
    for play in load(path):
        if isinstance(play, dict) and "hosts" in play:
            yield play


def play_tasks(play):
    for key in ("pre_tasks", "tasks", "post_tasks", "handlers"):
        yield from walk_tasks(play.get(key))


def task_files(role: str):
    for sub in ("tasks", "handlers"):
        yield from sorted((ROLES / role / sub).glob("*.yml"))


def role_includes(task):
    """(role, entry point) a task runs through include_role/import_role, or None."""
    for key in INCLUDE_ROLE:
        if key in task:
            args = task[key]
            return args["name"], Path(args.get("tasks_from", "main")).stem
    return None


def strings(node):
    """Every string in a YAML tree, keys included."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from strings(key)
            yield from strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from strings(value)


def private_names(text: str) -> set[str]:
    return set(PRIVATE.findall(text))


def template_names(path: Path) -> set[str]:
    text = JINJA_COMMENT.sub("", path.read_text())
    return set().union(*(private_names(block) for block in JINJA.findall(text))) if text else set()


def strip_role_calls(task):
    """The task without the vars it hands to another role (those are the callee's inputs)."""
    if role_includes(task) is not None:
        return {k: v for k, v in task.items() if k != "vars"}
    return task


def defined_in_tasks(tasks) -> set[str]:
    names = set()
    for task in walk_tasks(tasks):
        if role_includes(task) is None:
            names.update((task.get("vars") or {}).keys())
        if task.get("register"):
            names.add(task["register"])
        for key in SET_FACT:
            if isinstance(task.get(key), dict):
                names.update(task[key].keys())
        loop_var = (task.get("loop_control") or {}).get("loop_var")
        if loop_var:
            names.add(loop_var)
    return names


def owned(role: str) -> set[str]:
    """Underscore names a role defines: its defaults, vars, and what its tasks set."""
    names = set()
    for sub in ("defaults", "vars"):
        path = ROLES / role / sub / "main.yml"
        if path.is_file():
            names.update((load(path) or {}).keys())
    for path in task_files(role):
        names.update(defined_in_tasks(load(path)))
    return {n for n in names if PRIVATE.fullmatch(n)}


def referenced(role: str) -> dict[str, set[str]]:
    """Underscore names each file of a role mentions, except vars it hands to another role."""
    found = {}
    base = ROLES / role
    for path in sorted(base.rglob("*")):
        rel = path.relative_to(REPO)
        if path.suffix in (".yml", ".yaml") and path.parent.name in ("tasks", "handlers", "vars", "defaults"):
            data = load(path)
            if path.parent.name in ("tasks", "handlers"):
                data = [strip_role_calls(t) for t in walk_tasks(data)]
            found[str(rel)] = set().union(*(private_names(s) for s in strings(data)))
        elif path.suffix == ".j2":
            found[str(rel)] = template_names(path)
    return found


def handlers(role: str) -> set[str]:
    path = ROLES / role / "handlers" / "main.yml"
    names = set()
    if path.is_file():
        for handler in walk_tasks(load(path)):
            names.add(handler.get("name"))
            listen = handler.get("listen", [])
            names.update([listen] if isinstance(listen, str) else listen)
    return names


def calls():
    """(caller, caller file, role, entry point, names of the vars handed to it): caller is a role
    name or 'playbook'; the vars are those of the include/import task, a meta dependency or a
    playbook's roles: entry (its vars: and inline keys)."""
    for role in role_names():
        meta = ROLES / role / "meta" / "main.yml"
        for dep in (load(meta) or {}).get("dependencies", []) if meta.is_file() else []:
            name = dep["role"] if isinstance(dep, dict) else dep
            yield role, str(meta.relative_to(REPO)), name, "main", entry_vars(dep)
        for path in task_files(role):
            for task in walk_tasks(load(path)):
                target = role_includes(task)
                if target:
                    yield role, str(path.relative_to(REPO)), *target, set((task.get("vars") or {}).keys())
    for path in PLAYBOOKS:
        for play in plays(path):
            for entry in play.get("roles", []) or []:
                name = entry["role"] if isinstance(entry, dict) else entry
                yield "playbook", str(path.relative_to(REPO)), name, "main", entry_vars(entry)
            for task in play_tasks(play):
                target = role_includes(task)
                if target:
                    yield "playbook", str(path.relative_to(REPO)), *target, set((task.get("vars") or {}).keys())


def entry_vars(entry) -> set[str]:
    """The vars a roles: entry or meta dependency hands on: its vars: and its inline keys."""
    if not isinstance(entry, dict):
        return set()
    inline = set(entry) - {"role", "name", "vars", "tags", "when", "become"}
    return set((entry.get("vars") or {}).keys()) | inline


def test_every_entry_point_is_a_task_file():
    missing = [f"roles/{role}: entry point {entry} has no tasks/{entry}.yml"
               for role in role_names() for entry in sorted(entry_points(role))
               if not (ROLES / role / "tasks" / f"{entry}.yml").is_file()]
    assert not missing, "\n".join(missing)


def test_roles_and_playbooks_call_only_declared_entry_points():
    wrong = []
    for caller, where, role, entry, _vars in calls():
        if caller == role:
            continue
        if not (ROLES / role).is_dir():
            wrong.append(f"{where}: no role {role}")
        elif entry not in entry_points(role):
            wrong.append(f"{where}: runs {role}'s {entry}.yml, not an entry point in "
                         f"roles/{role}/meta/argument_specs.yml ({', '.join(sorted(entry_points(role)))})")
    assert not wrong, "\n".join(wrong)


def test_tasks_from_names_the_entry_point_itself():
    """Ansible validates an entry point's arguments only when tasks_from is its exact name
    (tasks_from: start, not start.yml)."""
    wrong = []
    for path in [p for role in role_names() for p in task_files(role)] + PLAYBOOKS:
        data = load(path)
        tasks = [t for play in plays(path) for t in play_tasks(play)] if path in PLAYBOOKS else walk_tasks(data)
        for task in tasks:
            for key in INCLUDE_ROLE & task.keys():
                tasks_from = task[key].get("tasks_from")
                if tasks_from is not None and tasks_from != Path(tasks_from).stem:
                    wrong.append(f"{path.relative_to(REPO)}: tasks_from: {tasks_from} (write {Path(tasks_from).stem})")
    assert not wrong, "\n".join(wrong)


def test_task_files_stay_inside_their_role():
    wrong = []
    for role in role_names():
        for path in task_files(role):
            for task in walk_tasks(load(path)):
                for key in INCLUDE_TASKS & task.keys():
                    target = task[key] if isinstance(task[key], str) else task[key].get("file", "")
                    if "/" in target:
                        wrong.append(f"{path.relative_to(REPO)}: {key} {target} reaches outside the role")
    assert not wrong, "\n".join(wrong)


def test_no_role_touches_another_roles_private_names():
    owners: dict[str, set[str]] = {}
    for role in role_names():
        for name in owned(role):
            owners.setdefault(name, set()).add(role)
    wrong = []
    for role in role_names():
        mine = owned(role)
        for where, names in referenced(role).items():
            for name in sorted(names - mine):
                if name in owners:
                    wrong.append(f"{where}: {name} belongs to {', '.join(sorted(owners[name]))}")
    for path in PLAYBOOKS + sorted((REPO / "playbooks" / "templates").glob("*.j2")):
        names = (template_names(path) if path.suffix == ".j2"
                 else set().union(*(private_names(s) for play in plays(path)
                                    for s in strings([strip_role_calls(t) for t in play_tasks(play)]
                                                     + [play.get("vars") or {}]))))
        for name in sorted(names):
            if name in owners:
                wrong.append(f"{path.relative_to(REPO)}: {name} belongs to {', '.join(sorted(owners[name]))}")
    assert not wrong, "\n".join(wrong)


def test_no_role_is_handed_its_own_private_names():
    """The other half of "nor sets them": the vars a caller hands to a role (which
    test_no_role_touches_another_roles_private_names leaves out as the callee's inputs) are
    the callee's public names, never one of its underscore names."""
    calls_seen = 0
    wrong = []
    for _caller, where, role, _entry, names in calls():
        calls_seen += 1
        for name in sorted(names & owned(role)):
            wrong.append(f"{where}: hands {role} its private {name}")
    assert calls_seen > 10, "no role calls found: the test looks in the wrong place"
    assert not wrong, "\n".join(wrong)


def test_roles_notify_only_their_own_handlers():
    wrong = []
    for role in role_names():
        own = handlers(role)
        for path in task_files(role):
            for task in walk_tasks(load(path)):
                notify = task.get("notify", [])
                for name in [notify] if isinstance(notify, str) else notify:
                    if name not in own:
                        wrong.append(f"{path.relative_to(REPO)}: notifies '{name}', not a handler of {role}")
    assert not wrong, "\n".join(wrong)


def test_role_graph_has_no_cycle():
    graph: dict[str, set[str]] = {role: set() for role in role_names()}
    for caller, _where, role, _entry, _vars in calls():
        if caller != "playbook" and caller != role:
            graph[caller].add(role)
    state: dict[str, str] = {}
    cycles = []

    def visit(node, path):
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                cycles.append(" -> ".join(path[path.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = "done"

    for role in graph:
        if role not in state:
            visit(role, [role])
    assert not cycles, "role include cycle(s): " + "; ".join(cycles)
