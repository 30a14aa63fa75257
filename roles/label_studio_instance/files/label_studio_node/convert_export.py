"""convert-export: make a project's export in JSON_MIN, JSON or CSV from its full JSON export
(every task), with Label Studio's own converter, exactly as the server makes it.

Why: export.yml needs the full export (unannotated tasks, skipped annotations, ids) for its
tables, and the annotator's file in study_export_format. Asking the server for both costs two
exports per annotator; the server makes the second one from the same tasks anyway. Its export
API (data_export/api.py ExportAPI.get, in 1.6.0 and 1.23.2 alike) selects the project's tasks
with at least one annotation of any kind (`annotations__isnull=False`, skipped ones included),
serializes them exactly as in the full export, dumps them with ujson (ensure_ascii=False) to a
file and runs `Converter(config=project.get_parsed_config(), project_dir=None, ...).convert(
file, dir, format, is_dir=False)` (data_export/models.py generate_export_file). This command
does the same with the same code: the converter of the environment Label Studio runs from
(label_studio_sdk.converter in 1.23.2, label_studio_converter in 1.6.0), so it must run with that
environment's Python.

Arguments are paths only (the study's text stays in 0600 files), and one run converts every
project's export (the converter's import, ~1 s, is paid once, not once per annotator):
  --jobs FILE     JSON list, one entry per project: {"name": what messages call it,
                  "full": the full JSON export (a list of tasks, download_all_tasks=true),
                  "config": the project's parsed_label_config (or its label_config XML),
                  "output": the file to write, 0600 (must not exist)}
  --format F      JSON_MIN, JSON or CSV
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile

from .atomic_files import write_new
from .errors import NodeError

FORMATS = ("JSON_MIN", "JSON", "CSV")


def served_tasks(tasks: list) -> list:
    """The tasks the server exports without download_all_tasks: those with an annotation (a
    skipped one counts), in the full export's order."""
    return [task for task in tasks if task.get("annotations")]


def converter_class():
    try:
        from label_studio_sdk.converter import Converter  # e.g. Label Studio 1.23.2
    except ImportError:
        try:
            from label_studio_converter import Converter  # the original study's 1.6.0
        except ImportError as err:
            raise NodeError("no Label Studio converter in this Python (%s): run with the "
                            "instance environment's Python" % err) from err
    return Converter


def convert(converter_type, full_path: str, config, export_format: str, output: str) -> None:
    import ujson  # what the server dumps the tasks with before converting them

    with open(full_path, encoding="utf-8") as handle:
        tasks = json.load(handle)  # exact floats; ujson's parser may round the last digit
    if not isinstance(tasks, list):
        raise NodeError("%s is not a full export (a list of tasks)" % full_path)
    converter = converter_type(config=config, project_dir=None, download_resources=False)
    work = tempfile.mkdtemp(prefix="convert-", dir=os.path.dirname(os.path.abspath(output)))
    try:
        source = os.path.join(work, "tasks.json")
        write_new(source, ujson.dumps(served_tasks(tasks), ensure_ascii=False).encode("utf-8"))
        result_dir = os.path.join(work, "out")
        os.mkdir(result_dir, 0o700)
        converter.convert(source, result_dir, export_format, is_dir=False)
        made = os.listdir(result_dir)
        if len(made) != 1:
            raise NodeError("the converter made %d files for %s, not one" % (len(made), export_format))
        # Linked, not copied: work is beside output (same file system); a link, unlike a rename,
        # refuses an output that exists. The converter's file is the study's text: 0600.
        os.link(os.path.join(result_dir, made[0]), output)
        os.chmod(output, 0o600)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="label_studio_node convert-export",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", required=True)
    parser.add_argument("--format", required=True, choices=FORMATS)
    args = parser.parse_args(argv)
    os.umask(0o077)
    try:
        with open(args.jobs, encoding="utf-8") as handle:
            jobs = json.load(handle)
        converter_type = converter_class()
    except (NodeError, OSError, ValueError) as err:
        print("convert-export: %s" % err, file=sys.stderr)
        return 1
    for job in jobs:
        try:
            convert(converter_type, job["full"], job["config"], args.format, job["output"])
        except (NodeError, OSError) as err:
            print("convert-export: %s: %s" % (job["name"], err), file=sys.stderr)
            return 1
        except Exception as err:  # noqa: BLE001 - the converter's messages may quote the study's text
            print("convert-export: %s: the converter failed (%s)" % (job["name"], type(err).__name__),
                  file=sys.stderr)
            return 1
    return 0
