"""uv is given the settings pip has on the node, and the installer its environment from stdin
(roles/label_studio_env/files/installer_env.py)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "roles/label_studio_env/files/installer_env.py"
spec = importlib.util.spec_from_file_location("installer_env", SCRIPT)
uv_settings = importlib.util.module_from_spec(spec)
spec.loader.exec_module(uv_settings)

# `pip config list` as it printed on this test machine, plus an install section, a proxy and a
# multi-line value (pip prints values with %r).
LISTING = """\
:env:.cert='/etc/ssl/certs/ca-certificates.crt'
:env:.find-links='/opt/wheels'
global.cert='/somewhere/else.pem'
global.constraint='/etc/xdg/pip/constraints.txt'
global.extra-index-url='file:///opt/pypi/simple file:///opt/pypi-more/simple'
global.index-url='https://mirror.example.org/simple'
install.index-url='https://install.example.org/simple'
global.proxy='http://proxy.example.org:3128'
global.trusted-host='mirror.example.org\\nother.example.org'
"""


def test_environment_beats_install_beats_global():
    settings = uv_settings.parse_config_list(LISTING)
    assert settings["cert"] == "/etc/ssl/certs/ca-certificates.crt"      # :env: over global
    assert settings["index-url"] == "https://install.example.org/simple"  # install over global
    assert settings["find-links"] == "/opt/wheels"


def test_every_pip_setting_has_its_uv_twin():
    env = uv_settings.uv_environment(uv_settings.parse_config_list(LISTING))
    assert env == {
        "UV_NATIVE_TLS": "1",
        "UV_INDEX_URL": "https://install.example.org/simple",
        "UV_EXTRA_INDEX_URL": "file:///opt/pypi/simple file:///opt/pypi-more/simple",
        "UV_INDEX_STRATEGY": "unsafe-best-match",
        "UV_FIND_LINKS": "/opt/wheels",
        "UV_CONSTRAINT": "/etc/xdg/pip/constraints.txt",
        "SSL_CERT_FILE": "/etc/ssl/certs/ca-certificates.crt",
        "HTTPS_PROXY": "http://proxy.example.org:3128", "HTTP_PROXY": "http://proxy.example.org:3128",
        "https_proxy": "http://proxy.example.org:3128", "http_proxy": "http://proxy.example.org:3128",
        "UV_INSECURE_HOST": "mirror.example.org other.example.org",
    }


def test_no_settings_still_uses_the_system_certificate_store():
    assert uv_settings.uv_environment(uv_settings.parse_config_list("")) == {"UV_NATIVE_TLS": "1"}


def test_no_index_is_carried_over():
    env = uv_settings.uv_environment({"no-index": "true", "find-links": "/a /b"})
    assert env["UV_NO_INDEX"] == "1" and env["UV_FIND_LINKS"] == "/a,/b"


def test_several_sources_are_searched_like_pip_does():
    # pip takes the best version from all its sources; uv by default stops at the first index
    # that has the package at all, and then fails where pip installs (this test machine's
    # /opt/pypi has ordered-set, but not the 4.0.2 label-studio 1.23.2 pins).
    env = uv_settings.uv_environment({"extra-index-url": "file:///a/simple"})
    assert env["UV_INDEX_STRATEGY"] == "unsafe-best-match"
    assert "UV_INDEX_STRATEGY" not in uv_settings.uv_environment({"find-links": "/a"})


def test_the_extra_variables_win_over_pip_settings_and_the_nodes():
    env = uv_settings.exec_environment({"PATH": "/bin", "UV_INDEX_URL": "node"},
                                       {"UV_INDEX_URL": "pip", "UV_NATIVE_TLS": "1"},
                                       {"UV_INDEX_URL": "playbook", "UV_HTTP_TIMEOUT": 30})
    assert env == {"PATH": "/bin", "UV_INDEX_URL": "playbook", "UV_NATIVE_TLS": "1", "UV_HTTP_TIMEOUT": "30"}


def test_exec_hands_stdin_variables_to_the_program_and_nothing_to_its_command_line(tmp_path):
    import json
    import subprocess
    import sys
    shown = subprocess.run(
        [sys.executable, str(SCRIPT), "exec", "--", sys.executable, "-c",
         "import os, sys, json; print(json.dumps([os.environ.get('LS_MARK'), sys.argv[1:]]))", "a b"],
        input=json.dumps({"LS_MARK": "token-123"}), capture_output=True, text=True, check=True)
    assert json.loads(shown.stdout) == ["token-123", ["a b"]]


def test_exec_refuses_what_is_not_a_json_object_and_a_missing_program():
    import subprocess
    import sys
    for argv, stdin in ((["exec", "--", "true"], "[1, 2]"), (["exec", "--", "true"], "{not json"),
                        (["exec", "--"], "{}"), (["run", "--", "true"], "{}")):
        answer = subprocess.run([sys.executable, str(SCRIPT)] + argv, input=stdin,
                                capture_output=True, text=True)
        assert answer.returncode == 2 and answer.stderr, (argv, stdin)
