"""A stand-in for the node's syslog: a unix datagram socket at /dev/log that keeps what arrives.

Ansible's modules log every invocation through syslog(3) ("Invoked with ..."), and on a shared
node whatever reaches syslog is read by administrators and shipped to log servers. The test
machine has no syslog daemon, so a test (as root) binds /dev/log itself, collects every message
while playbooks run, and removes the socket afterwards.
"""
from __future__ import annotations

import os
import socket
import threading
from contextlib import contextmanager
from pathlib import Path

DEV_LOG = Path("/dev/log")


@contextmanager
def capture_syslog(path: Path = DEV_LOG):
    """Collect every datagram sent to `path` while the block runs; yields the growing list."""
    if path.exists() or path.is_symlink():
        raise RuntimeError(f"{path} already exists (a syslog daemon?): this test binds it itself "
                           "and would lose the node's real log; run it on a machine without one")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    # Large enough for a module invocation carrying hundreds of tasks.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    sock.bind(str(path))
    os.chmod(path, 0o666)  # like a real /dev/log: every account may log
    messages: list[str] = []
    stop = threading.Event()

    def read():
        sock.settimeout(0.2)
        while True:
            try:
                data = sock.recv(1 << 22)
            except socket.timeout:
                if stop.is_set():
                    return
                continue
            messages.append(data.decode("utf-8", "replace"))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        yield messages
    finally:
        # The reader drains what is queued before it sees the stop flag time out.
        stop.set()
        reader.join()
        sock.close()
        path.unlink()
