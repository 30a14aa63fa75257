"""label_studio_files through its real action plugin (ansible ad hoc, no Label Studio needed): on
the local connection it writes in Ansible's own process; over SSH the texts reach the node as files
in the task's temp dir, never as module arguments. A bad item is refused before anything is
written."""
from __future__ import annotations

import base64
import os
import stat
import uuid

from support.files import assert_untouched, files_state, node_files_state
from support.modules import in_process, run_module

IN_PROCESS = in_process("label_studio_files")


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_texts_and_bytes_are_written_and_never_module_arguments(tmp_path):
    target = tmp_path / "state"
    secret = "SECRET_KEY=do-not-show-me\n"
    payload = bytes(range(256))
    args = {"dirs": [{"path": str(target), "mode": "0700"}],
            "files": [{"dest": str(target / "service.env"), "content": secret, "mode": "0600", "secret": True},
                      {"dest": str(target / "run"), "content": "#!/bin/sh\nexit 0\n", "mode": "0700"},
                      {"dest": str(target / "package.zip"),
                       "content_base64": base64.b64encode(payload).decode(), "mode": "0600"}]}
    preview = run_module("label_studio_files", args, check=True, diff=True)
    assert preview["changed"] and not target.exists()
    assert "do-not-show-me" not in preview["printed"] and "exit 0" in preview["printed"]
    written = run_module("label_studio_files", args, diff=True)
    assert written["changed"] and written["dirs"] == [str(target)] and len(written["files"]) == 3
    assert (target / "service.env").read_text() == secret and mode(target / "service.env") == 0o600
    assert mode(target) == 0o700 and mode(target / "run") == 0o700
    assert (target / "package.zip").read_bytes() == payload
    assert "do-not-show-me" not in written["printed"]
    # On this local connection no module runs (no payload, no copies of the texts); -vvv says so
    # and shows no text either.
    (target / "run").chmod(0o755)
    verbose = run_module("label_studio_files", args, verbose=True)
    assert not verbose["failed"], verbose["printed"][-2000:]
    assert IN_PROCESS in verbose["printed"] and "Using module file" not in verbose["printed"]
    assert "do-not-show-me" not in verbose["printed"] + verbose["stderr"]
    assert "exit 0" not in verbose["printed"] + verbose["stderr"]
    assert verbose["changed"] and mode(target / "run") == 0o700  # the mode put back is a change
    kept = files_state(target)
    assert not run_module("label_studio_files", args)["changed"]
    assert_untouched(kept, target)  # and nothing rewritten when nothing changes


def test_over_ssh_the_module_gets_the_texts_as_files_never_as_arguments(ssh_node):
    """Where the node is another account (the rig's, over SSH) the module runs there, and what it
    is called with (Ansible logs it on the node and shows it at -vvv) holds paths only."""
    target = f"{ssh_node.home}/files-test-{uuid.uuid4().hex}"
    secret = "SECRET_KEY=do-not-show-me-either\n"
    args = {"dirs": [{"path": target, "mode": "0700"}],
            "files": [{"dest": f"{target}/service.env", "content": secret, "mode": "0600", "secret": True},
                      {"dest": f"{target}/run", "content": "#!/bin/sh\nexit 3\n", "mode": "0700"}]}
    node = {"host": "node1", "inventory": ssh_node.inventory()}
    try:
        written = run_module("label_studio_files", args, verbose=True, **node)
        output = written["printed"] + written["stderr"]
        assert not written["failed"], output[-3000:]
        assert written["changed"] and len(written["files"]) == 2
        assert "Using module file" in output and "label_studio_files.py" in output and IN_PROCESS not in output
        assert "module_args" in output and "src: " in output
        assert "do-not-show-me-either" not in output and "exit 3" not in output
        on_node = ssh_node.run(f"stat -c '%a %n' {target} {target}/service.env {target}/run; "
                               f"cat {target}/service.env")
        assert on_node.stdout.splitlines() == [f"700 {target}", f"600 {target}/service.env", f"700 {target}/run",
                                               secret.strip()], on_node.stdout + on_node.stderr
        before = node_files_state(ssh_node, target)
        again = run_module("label_studio_files", args, **node)
        assert not again["failed"] and not again["changed"]
        assert node_files_state(ssh_node, target) == before
    finally:
        ssh_node.run(f"rm -rf {target}")


def test_an_unknown_key_or_two_texts_are_refused_before_anything_is_written(tmp_path):
    first = {"dest": str(tmp_path / "a"), "content": "a\n", "mode": "0600"}
    typo = run_module("label_studio_files", {"files": [first, {"dest": str(tmp_path / "b"), "contents": "b\n",
                                                                "mode": "0600"}]})
    assert typo["failed"] and "unknown keys contents" in typo["msg"]
    both = run_module("label_studio_files", {"files": [first, {"dest": str(tmp_path / "b"), "content": "b\n",
                                                                "content_base64": "Yg==", "mode": "0600"}]})
    assert both["failed"] and "exactly one of content and content_base64" in both["msg"]
    bad_mode = run_module("label_studio_files", {"files": [first, {"dest": str(tmp_path / "b"), "content": "b\n",
                                                                    "mode": "rw"}]})
    assert bad_mode["failed"] and "mode 'rw'" in bad_mode["msg"]
    assert list(tmp_path.iterdir()) == []
