"""A TCP listener that records every byte sent to it: an impostor on a port, or a proxy.

It answers each request like a healthy Label Studio (HTTP 200 {"status": "UP"}), so a client that
trusts it goes on and sends what it would send Label Studio. It runs as its own process (as another
account if asked) and reports on stdout, per connection: accepted, the bytes received (hex), closed.
"""
from __future__ import annotations

import socket
import subprocess
import threading
import time

LISTENER = r"""
import os, socket, sys, threading
lock = threading.Lock()
def say(*words):
    with lock:
        print(*words, flush=True)
def serve(conn, n):
    conn.settimeout(10)
    data = b""
    try:
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            say("got", n, chunk.hex())
            data += chunk
            head, sep, body = data.partition(b"\r\n\r\n")
            sizes = [l.split(b":", 1)[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")]
            if sep and len(body) >= (int(sizes[0]) if sizes else 0):
                conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n"
                             b"Content-Length: 16\r\nConnection: close\r\n\r\n" b'{"status": "UP"}')
                break
    except OSError:
        pass
    conn.close()
    say("end", n)
def stop_on_eof():  # the test closes our stdin to stop us (no signal through runuser needed)
    sys.stdin.read()
    os._exit(0)
threading.Thread(target=stop_on_eof, daemon=True).start()
srv = socket.socket()
# Connections it closed first linger in TIME_WAIT on the port; the next listener must bind anyway.
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", int(sys.argv[1])))
srv.listen(64)
say("listening")
n = 0
while True:
    conn, _ = srv.accept()
    n += 1
    say("acc", n)
    threading.Thread(target=serve, args=(conn, n), daemon=True).start()
"""


class Recorder:
    def __init__(self, port: int, wrap=lambda argv: argv):
        self.port = port
        self.proc = subprocess.Popen(wrap(["python3", "-c", LISTENER, str(port)]),
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        first = self.proc.stdout.readline()
        assert first.strip() == "listening", f"recorder on port {port} did not start: {first!r}"
        self._lines: list[list[str]] = []
        self._changed = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            with self._changed:
                self._lines.append(line.split())
                self._changed.notify_all()

    def received(self) -> bytes:
        """Everything received so far, once every earlier connection has been read to its end.

        A marker connection made now is accepted after every connection already queued (accept
        order), so once it and all before it are closed, nothing sent earlier is still unread."""
        with socket.create_connection(("127.0.0.1", self.port)):
            pass
        with self._changed:
            done = self._changed.wait_for(self._settled, timeout=120)
            assert done, f"recorder on port {self.port} did not settle: {self._lines[-5:]}"
            return b"".join(bytes.fromhex(w[2]) for w in self._lines if w[0] == "got")

    def _settled(self) -> bool:
        accepted = [w[1] for w in self._lines if w[0] == "acc"]
        ended = {w[1] for w in self._lines if w[0] == "end"}
        return bool(accepted) and accepted[-1] in ended and set(accepted) <= ended

    def stop(self) -> None:
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
