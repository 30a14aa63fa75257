"""A real PostgreSQL server for tests: Debian's binaries, a throwaway cluster, run as the
`postgres` OS account (PostgreSQL refuses root), listening on one loopback address."""
from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from .net import free_port

# Debian's server binaries (package postgresql), newest major version installed.
BIN = max(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name), default=Path("/nonexistent"))
OWNER = "postgres"


def _as_owner(*argv: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["runuser", "-u", OWNER, "--", *argv], input=stdin, capture_output=True,
                          text=True, check=check, timeout=120)


@dataclass
class PostgresServer:
    root: Path
    host: str
    port: int

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def cert(self) -> Path:
        """The server's self-signed certificate: the root to trust for sslmode=verify-full."""
        return self.root / "server.crt"

    def sql(self, statement: str, database: str = "postgres") -> str:
        """Run SQL as the superuser over the cluster's private unix socket; rows as text."""
        return _as_owner(str(BIN / "psql"), "-h", str(self.root), "-p", str(self.port), "-d", database,
                         "-v", "ON_ERROR_STOP=1", "-Atq", stdin=statement).stdout.strip()

    def create_database(self, name: str, user: str, password: str) -> None:
        # The password goes to psql on stdin, never in an argv.
        self.sql(f"CREATE ROLE \"{user}\" LOGIN PASSWORD '{password}';\n"
                 f"CREATE DATABASE \"{name}\" OWNER \"{user}\";")

    def connections(self, user: str) -> list[str]:
        """The server log's "connection authorized" lines for `user` (they say whether SSL was on)."""
        log = (self.root / "server.log").read_text()
        return [line for line in log.splitlines() if "connection authorized" in line and f"user={user} " in line]

    def stop(self) -> None:
        _as_owner(str(BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "stop", check=False)
        shutil.rmtree(self.root, ignore_errors=True)


# A role the test server asks for its password in clear text (pg_hba `password`): a client that
# requires SCRAM must refuse to answer it.
CLEARTEXT_USER = "cleartext_user"


def start_server(host: str = "127.0.0.2") -> PostgresServer:
    """initdb (peer auth on the socket, scram-sha-256 over TCP, `password` for CLEARTEXT_USER),
    TLS with a self-signed certificate for `host` (server.cert, its own root), start on host:free port.

    The cluster lives in a fresh dir under /tmp: pytest's tmp dirs are root's, 0700."""
    root = Path(tempfile.mkdtemp(prefix="pg-dbhost-", dir="/tmp"))
    shutil.chown(root, OWNER, OWNER)
    root.chmod(0o700)
    server = PostgresServer(root, host, free_port())
    _as_owner(str(BIN / "initdb"), "-D", str(server.data), "--auth-local=peer",
              "--auth-host=scram-sha-256", "--no-locale", "--encoding=UTF8")
    (server.data / "pg_hba.conf").write_text(
        "local all all peer\n"
        f"host all {CLEARTEXT_USER} all password\n"
        "host all all all scram-sha-256\n")
    _as_owner("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
              "-subj", f"/CN={host}", "-addext", f"subjectAltName=IP:{host}",
              "-keyout", str(root / "server.key"), "-out", str(server.cert))
    options = (f"-p {server.port} -c listen_addresses={host} -c unix_socket_directories={root}"
               f" -c ssl=on -c ssl_cert_file={server.cert} -c ssl_key_file={root / 'server.key'}"
               " -c log_connections=on")
    _as_owner(str(BIN / "pg_ctl"), "-D", str(server.data), "-l", str(root / "server.log"),
              "-o", options, "-w", "start")
    deadline = time.monotonic() + 30
    while _as_owner(str(BIN / "pg_isready"), "-h", host, "-p", str(server.port), check=False).returncode:
        if time.monotonic() > deadline:
            raise RuntimeError((root / "server.log").read_text())
        time.sleep(0.2)
    return server


def node_sql(ssh_node, inst, statement: str, check: bool = True):
    """SQL on an instance's database as Label Studio's own user, run on the SSH rig's node with
    the password taken from the service's env file (not argv). check=False: the finished
    process (a refusal is what the caller wants to see)."""
    state = f"~/.local/state/label-studio/{inst.name}"
    out = ssh_node.run(
        f"{state}/with-service-env bash -c 'PGPASSWORD=$POSTGRE_PASSWORD exec "
        f"{BIN}/psql -v ON_ERROR_STOP=1 -h $POSTGRE_HOST -p $POSTGRE_PORT -U $POSTGRE_USER "
        f"-d $POSTGRE_NAME -Atc \"$1\"' sql {statement!r}")
    if not check:
        return out
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()
