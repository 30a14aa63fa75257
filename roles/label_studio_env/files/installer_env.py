#!/usr/bin/env python3
"""The installer's environment on the node: pip's settings for uv, and the playbook's extra ones.

uv reads neither pip's configuration files nor PIP_* variables, and by default trusts only its
own certificate roots: on a node whose pip.conf names an institutional index, mirror, proxy or
certificate bundle (or whose system store holds a site's TLS root), pip works and uv fails.
So pip is asked for its effective settings (`pip config list`: global, user and site files and
PIP_* variables) and uv is handed the same ones.

  python installer_env.py
      prints that uv environment as JSON;
  python installer_env.py exec [--uv] -- PROGRAM [ARG ...]
      reads a JSON object of further variables on stdin (label_studio_installer_env), adds pip's
      settings for uv with --uv, and replaces itself with PROGRAM in that environment.

Index URLs and proxies may carry credentials: they stay in the installer's environment, which only
its own account can read, never on a command line (/proc/PID/cmdline is readable by every account;
Ansible's `environment:` keyword puts its values on one) and never in Ansible's output. Run with a
Python that has pip for --uv (the account's uv venv). Standard library only.
"""
import ast
import json
import os
import subprocess
import sys

# Later sources win, as in pip: [global], then [install], then the environment.
PRECEDENCE = ("global", "install", ":env:")


def parse_config_list(text):
    """{option: value} from `pip config list` lines such as global.index-url='https://...'."""
    found = {}
    for line in text.splitlines():
        name, sep, quoted = line.partition("=")
        if not sep or "." not in name:
            continue
        section, _, option = name.rpartition(".")
        try:
            value = ast.literal_eval(quoted)
        except (ValueError, SyntaxError):
            value = quoted.strip("'\"")
        found.setdefault(section, {})[option] = str(value)
    merged = {}
    for section in PRECEDENCE:
        merged.update(found.get(section, {}))
    return merged


def _words(value):
    return value.split()


def uv_environment(pip_settings):
    """The uv environment variables equivalent to pip's settings (names as uv documents them)."""
    env = {"UV_NATIVE_TLS": "1"}  # the system certificate store, as pip's truststore/certifi+system
    if pip_settings.get("index-url"):
        env["UV_INDEX_URL"] = pip_settings["index-url"]
    if pip_settings.get("extra-index-url"):
        env["UV_EXTRA_INDEX_URL"] = " ".join(_words(pip_settings["extra-index-url"]))
        # pip takes the best version from all its indexes; uv by default only from the first
        # index that has the package at all, and so fails where pip installs.
        env["UV_INDEX_STRATEGY"] = "unsafe-best-match"
    if pip_settings.get("find-links"):
        env["UV_FIND_LINKS"] = ",".join(_words(pip_settings["find-links"]))
    if pip_settings.get("no-index", "").lower() in ("1", "true", "yes", "on"):
        env["UV_NO_INDEX"] = "1"
    if pip_settings.get("trusted-host"):
        env["UV_INSECURE_HOST"] = " ".join(_words(pip_settings["trusted-host"]))
    if pip_settings.get("cert"):
        env["SSL_CERT_FILE"] = pip_settings["cert"]
    if pip_settings.get("client-cert"):
        env["SSL_CLIENT_CERT"] = pip_settings["client-cert"]
    if pip_settings.get("proxy"):
        for name in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"):
            env[name] = pip_settings["proxy"]
    if pip_settings.get("constraint"):
        env["UV_CONSTRAINT"] = " ".join(_words(pip_settings["constraint"]))
    if pip_settings.get("timeout") or pip_settings.get("default-timeout"):
        env["UV_HTTP_TIMEOUT"] = pip_settings.get("timeout") or pip_settings["default-timeout"]
    return env


def pip_settings_for_uv():
    listing = subprocess.run([sys.executable, "-m", "pip", "config", "list"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             universal_newlines=True, check=False).stdout
    return uv_environment(parse_config_list(listing))


def exec_environment(base, pip_for_uv, extra):
    """The installer's environment: the node's, pip's settings for uv (if any), then the extra
    variables (which win, as label_studio_installer_env is the playbook's explicit choice)."""
    if not isinstance(extra, dict):
        raise ValueError("the extra environment must be a JSON object")
    env = dict(base)
    env.update(pip_for_uv)
    env.update((str(name), str(value)) for name, value in extra.items())
    return env


def main(argv):
    if not argv:
        print(json.dumps(pip_settings_for_uv(), sort_keys=True))
        return 0
    if argv[0] != "exec" or "--" not in argv or argv.index("--") + 1 >= len(argv):
        sys.stderr.write("usage: installer_env.py [exec [--uv] -- PROGRAM [ARG ...]]\n")
        return 2
    options, command = argv[1:argv.index("--")], argv[argv.index("--") + 1:]
    text = sys.stdin.read().strip()
    try:
        extra = json.loads(text) if text else {}
        env = exec_environment(os.environ, pip_settings_for_uv() if "--uv" in options else {}, extra)
    except ValueError as err:
        sys.stderr.write("installer_env.py: stdin: %s\n" % err)
        return 2
    sys.stdout.flush()
    os.execvpe(command[0], command, env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
