"""label_studio_info's pure parts: what it returns never holds more than counts and titles."""
import importlib.util
import json
from pathlib import Path

LIBRARY = Path(__file__).resolve().parents[2] / "library/label_studio_info.py"
spec = importlib.util.spec_from_file_location("label_studio_info", LIBRARY)
info = importlib.util.module_from_spec(spec)
spec.loader.exec_module(info)


def test_project_counts_keep_ids_titles_and_counts_only():
    projects = [{"id": 2, "title": "RRS: b", "task_number": 4, "total_annotations_number": 5,
                 "skipped_annotations_number": 1, "label_config": "<View/>", "created_by": {"email": "x@y"}},
                {"id": 1, "title": "RRS: a", "task_number": 3, "total_annotations_number": 2,
                 "skipped_annotations_number": 0}]
    assert info.project_counts(projects) == [
        {"id": 1, "title": "RRS: a", "tasks": 3, "annotations": 2, "skipped": 0},
        {"id": 2, "title": "RRS: b", "tasks": 4, "annotations": 5, "skipped": 1}]


def test_users_of_plain_list_and_paginated_answer():
    users = [{"id": 1, "email": "a@x"}, {"id": 2, "email": "b@x"}]
    assert info.users_of(json.dumps(users).encode()) == users
    assert info.users_of(json.dumps({"results": users, "next": None}).encode()) == users


def test_health_is_read_from_the_body():
    assert info.is_up(b'{"status": "UP"}')
    assert not info.is_up(b"") and not info.is_up(None) and not info.is_up(b'{"status": "DOWN"}')


def test_url_port_and_host():
    assert info.url_port("http://127.0.0.1:8080") == (8080, "127.0.0.1")
    assert info.url_port("http://localhost") == (80, "localhost")


# supervisorctl status's lines as supervisor 4.3 prints them.
FATAL = "label-studio                     FATAL     Exited too quickly (process log may have details)"


def running(pid):
    return "label-studio                     RUNNING   pid %d, uptime 0:00:05\n" % pid


def test_a_program_supervisord_gave_up_on_ends_the_wait():
    assert info.given_up([running(7), FATAL + "\n"]) == "supervisord gave up starting it (%s)" % FATAL
    for state in ("STARTING", "BACKOFF   Exited too quickly (process log may have details)",
                  "RUNNING   pid 123, uptime 0:00:05", "EXITED    Dec 01 06:00 AM", "STOPPED   Not started"):
        assert info.given_up(["label-studio                     " + state + "\n"]) is None
    # supervisorctl itself failing says nothing about the program.
    assert info.given_up(["unix:///x/supervisor.sock no such file\n"]) is None
    assert info.given_up([""]) is None and info.given_up([]) is None
    # FATAL earlier but starting again now (someone started it): the wait goes on.
    assert info.given_up([FATAL, "label-studio                     STARTING\n"]) is None


def test_a_program_restarted_again_and_again_ends_the_wait():
    # Exits after its first seconds are not FATAL: supervisord restarts it for ever.
    statuses = [running(10), running(10), running(11), running(12)]
    assert info.given_up(statuses) is None  # two restarts
    assert info.given_up(statuses + [running(13)]) == (
        "it exited 3 times and supervisord keeps restarting it (%s)" % running(13).strip())
    # The same process seen many times is one start.
    assert info.given_up([running(10)] * 20) is None


def test_last_line_of_a_log(tmp_path):
    log = tmp_path / "label-studio.log"
    log.write_text("Traceback (most recent call last):\n  File \"x\"\n"
                   "ModuleNotFoundError: No module named 'pkg_resources'\n\n")
    assert info.last_line(str(log)) == "ModuleNotFoundError: No module named 'pkg_resources'"
    # Only the end of a long log is read, and a long line is cut.
    log.write_text("x" * 10000 + "\n" + "y" * 1000 + "\n")
    assert info.last_line(str(log)) == "y" * 500
    log.write_text("")
    assert info.last_line(str(log)) is None
    assert info.last_line(str(tmp_path / "missing.log")) is None
