# -*- coding: utf-8 -*-
"""Read a NAME=VALUE env file (the kind bash sources with `set -a; . FILE`) without a shell."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import shlex

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def parse_env_file(text, source="env file"):
    """{NAME: value} from lines `NAME=value`, with shell quoting as written by Ansible's `quote`.

    Blank lines and lines starting with # are skipped; `export NAME=value` is accepted. Anything a
    shell would expand or split (unquoted spaces, several words) is an error rather than a guess.
    Error messages name the line, never its value: these files hold secrets.
    """
    values = {}
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("export "):
            stripped = stripped[len("export "):].lstrip()
        name, sep, raw = stripped.partition("=")
        if not sep or not _NAME.match(name):
            raise ValueError("%s line %d: expected NAME=VALUE" % (source, number))
        try:
            words = shlex.split(raw)
        except ValueError:
            raise ValueError("%s line %d: unbalanced quotes in the value of %s" % (source, number, name))
        if len(words) > 1:
            raise ValueError("%s line %d: the value of %s is several words; quote it" % (source, number, name))
        values[name] = words[0] if words else ""
    return values
