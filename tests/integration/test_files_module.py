"""label_studio_files through its real action plugin (ansible ad hoc, local connection): the
texts reach the node as files in the task's temp dir, never as module arguments, and a bad item
is refused before anything is written. No Label Studio needed."""
from __future__ import annotations

import base64
import os
import stat
import subprocess

from support.modules import module_command, module_env, run_module
from support.playbook import REPO


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
    # What the module is called with (Ansible logs it on the node and shows it at -vvv): paths only.
    (target / "run").chmod(0o755)
    verbose = subprocess.run(module_command("label_studio_files", args) + ["-vvv"], cwd=REPO,
                             env=module_env(), capture_output=True, text=True, timeout=300)
    assert verbose.returncode == 0, verbose.stdout[-2000:]
    assert "module_args" in verbose.stdout and "src: " in verbose.stdout
    assert "do-not-show-me" not in verbose.stdout + verbose.stderr
    assert "exit 0" not in verbose.stdout + verbose.stderr
    assert mode(target / "run") == 0o700
    assert not run_module("label_studio_files", args)["changed"]


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
