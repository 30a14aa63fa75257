"""The test rig's crontab lease (tests/support/crontab_lease.py): read-modify-write edits by
concurrent callers, each going through /bin/sh as Ansible's cron module does, lose no line."""
import os
import subprocess
import sys
import textwrap
from pathlib import Path

LEASE_SCRIPT = Path(__file__).resolve().parents[1] / "support/crontab_lease.py"

# A stand-in for /usr/bin/crontab keeping the table in a file: `-l` prints it, `FILE` installs it.
FAKE_CRONTAB = """#!/bin/sh
if [ "$1" = -l ]; then cat "$TABLE"; else cp "$1" "$TABLE"; fi
"""

# One cron-module-like edit: read through a shell, think a while, write the table plus a line.
EDITOR = textwrap.dedent("""
    import subprocess, sys, tempfile, time
    line = sys.argv[1]
    table = subprocess.run("crontab -l", shell=True, capture_output=True, text=True, check=True).stdout
    time.sleep(0.3)
    with tempfile.NamedTemporaryFile("w", delete=False) as new:
        new.write(table + line + "\\n")
    subprocess.run(f"crontab {new.name}", shell=True, check=True)
""")


def edit_at_once(tmp_path, lease: bool, editors: int = 4) -> list[str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "crontab").symlink_to(LEASE_SCRIPT)
    real = tmp_path / "real-crontab"
    real.write_text(FAKE_CRONTAB)
    real.chmod(0o755)
    table = tmp_path / "table"
    table.write_text("")
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}", TABLE=str(table),
               LS_TEST_CRONTAB_REAL=str(real))
    if lease:
        env["LS_TEST_CRONTAB_LEASE"] = str(tmp_path / "lease")
    procs = [subprocess.Popen([sys.executable, "-c", EDITOR, f"job{n}"], env=env) for n in range(editors)]
    assert [proc.wait(timeout=60) for proc in procs] == [0] * editors
    return table.read_text().splitlines()


def test_with_the_lease_no_edit_is_lost(tmp_path):
    assert sorted(edit_at_once(tmp_path, lease=True)) == ["job0", "job1", "job2", "job3"]


def test_without_it_edits_are_lost(tmp_path):
    """The race the lease exists for is real: the same editors without it lose lines."""
    assert len(edit_at_once(tmp_path, lease=False)) < 4


# An SSH connection's process (comm "sshd") that reads the crontab through a shell, as a raw
# command over SSH does, and then stays, as a connection kept for later commands does.
CONNECTION = textwrap.dedent("""
    import subprocess, sys, time
    subprocess.run("crontab -l", shell=True, capture_output=True, check=True)
    print("read", flush=True)
    time.sleep(30)
""")


def test_a_read_over_a_kept_ssh_connection_does_not_hold_the_lease(tmp_path):
    """The read's caller is the command the connection ran, which has ended: an edit after it
    does not wait for the connection to close."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "crontab").symlink_to(LEASE_SCRIPT)
    (bin_dir / "sshd").symlink_to(sys.executable)  # its process is named after the link: "sshd"
    real = tmp_path / "real-crontab"
    real.write_text(FAKE_CRONTAB)
    real.chmod(0o755)
    (tmp_path / "table").write_text("")
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}", TABLE=str(tmp_path / "table"),
               LS_TEST_CRONTAB_REAL=str(real), LS_TEST_CRONTAB_LEASE=str(tmp_path / "lease"))
    connection = subprocess.Popen([str(bin_dir / "sshd"), "-c", CONNECTION], env=env,
                                  stdout=subprocess.PIPE, text=True)
    try:
        assert connection.stdout.readline() == "read\n"
        assert Path(f"/proc/{connection.pid}/comm").read_text().strip() == "sshd"
        editor = subprocess.run([sys.executable, "-c", EDITOR, "job"], env=env, timeout=20)
        assert editor.returncode == 0
        assert connection.poll() is None, "the connection was still there while the edit ran"
    finally:
        connection.kill()
        connection.wait()
    assert (tmp_path / "table").read_text() == "job\n"
