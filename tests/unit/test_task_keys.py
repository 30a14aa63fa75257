"""Where label_studio_tasks reads a project's existing keys on PostgreSQL: the node package's
task-keys command (its grouping), and the module's reading of that command's answer."""
import sys

from support import node_package  # noqa: F401  (puts label_studio_node on sys.path)
from label_studio_node.task_keys import by_project  # noqa: E402

from ansible.module_utils.label_studio_task_keys import records_from_node_command  # noqa: E402


def test_rows_are_grouped_by_project_and_every_asked_project_is_there():
    rows = [(7, 101, 5001, 0), (9, 102, "r-2", 2), (7, 103, 5003, 1)]
    assert by_project(rows, [7, 8, 9]) == {"7": [[101, 5001, 0], [103, 5003, 1]], "8": [],
                                           "9": [[102, "r-2", 2]]}


def answering(text):
    """A real command line that prints `text` (as the node command prints its answer)."""
    return [sys.executable, "-c", "import sys; sys.stdout.write(%r)" % text, "--"]


def test_the_answer_becomes_records_by_project_id():
    command = answering('{"projects": {"7": [[101, 5001, 0], [103, 5003, 1]], "8": []}}')
    assert records_from_node_command(command, [7, 8], "study_id") == {
        7: [{"id": 101, "key": 5001, "annotations": 0}, {"id": 103, "key": 5003, "annotations": 1}],
        8: []}


def test_one_run_asks_for_every_project_and_the_key():
    # The answer's one "key" is the command's own arguments.
    echo = [sys.executable, "-c", "import json, sys; "
            "print(json.dumps({'projects': {'0': [[0, ' '.join(sys.argv[1:]), 0]]}}))"]
    (record,) = records_from_node_command(echo, [7, 9], "study_id")[0]
    assert record["key"] == "task-keys --key study_id --project 7 --project 9"


def test_a_failing_or_garbled_command_means_no_answer():
    assert records_from_node_command(["/bin/false"], [7], "study_id") is None
    assert records_from_node_command(answering("not json"), [7], "study_id") is None
    assert records_from_node_command(answering('{"projects": {"7": [[1]]}}'), [7], "study_id") is None
    assert records_from_node_command(["/nonexistent/python"], [7], "study_id") is None
