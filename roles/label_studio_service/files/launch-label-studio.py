# -*- coding: utf-8 -*-
"""`label-studio` (same arguments) that never moves to another port.

`label-studio start` checks whether its port answers and, if it does, silently starts on the next
free one. On a shared node that hands the configured port (where the automation and the
annotators' tunnels connect) to whoever took it, and leaves Label Studio elsewhere. This launcher
runs Label Studio's own entry point (label_studio.server:main, as the console script does) with the
port hunt turned off, so Django's server binds exactly the configured port or exits with "That
port is already in use", and supervisord retries and, if the port stays taken, reports FATAL.

The hunt is label_studio.server._get_free_port (1.x up to at least 1.23.2, 1.6.0 included), which
asks check_port_in_use. If a version has neither, the launcher refuses to start: better a service
that does not run than one that runs on an unknown port.
"""
import sys

from label_studio import server


def _configured_port(port, *args, **kwargs):
    return int(port)


def _not_in_use(*args, **kwargs):
    return False


if hasattr(server, "_get_free_port"):
    server._get_free_port = _configured_port
elif hasattr(server, "check_port_in_use"):
    server.check_port_in_use = _not_in_use
else:
    sys.exit("launch-label-studio: this Label Studio has no _get_free_port/check_port_in_use in "
             "label_studio.server; not starting it, as it might move to another port")

if not hasattr(server, "main"):
    sys.exit("launch-label-studio: label_studio.server has no main(); not starting")

if __name__ == "__main__":
    sys.argv[0] = "label-studio"
    sys.exit(server.main())
