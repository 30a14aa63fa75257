"""What a re-run must leave alone: every file's bytes and modification time, not only a module's
own changed=0 (a module that rewrites a file and reports "unchanged" must not pass)."""
from __future__ import annotations

from pathlib import Path


def files_state(*roots: Path) -> dict[str, tuple[bytes, int]]:
    """{path: (bytes, st_mtime_ns)} of every file under the roots (a root may be a file)."""
    state = {}
    for root in roots:
        for path in ([root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())):
            state[str(path)] = (path.read_bytes(), path.stat().st_mtime_ns)
    return state


def assert_untouched(before: dict[str, tuple[bytes, int]], *roots: Path) -> None:
    """The files under the roots are exactly `before`: none added, removed, changed or rewritten."""
    after = files_state(*roots)
    assert sorted(after) == sorted(before), f"files added/removed: {sorted(set(after) ^ set(before))}"
    changed = [p for p in before if after[p][0] != before[p][0]]
    assert not changed, f"rewritten with other content: {changed}"
    touched = [p for p in before if after[p][1] != before[p][1]]
    assert not touched, f"rewritten (same content, new mtime): {touched}"


def node_files_state(node, *dirs: str) -> str:
    """The files under the node's dirs as its own account sees them: one line per file with its
    path, mtime and sha256, sorted (compare two of them: equal means none added, removed,
    changed or rewritten)."""
    listing = node.run("find %s -type f -printf '%%p %%T@ ' -exec sha256sum {} \\; | sort"
                       % " ".join(dirs))
    assert listing.returncode == 0 and listing.stdout, listing.stderr
    return listing.stdout
