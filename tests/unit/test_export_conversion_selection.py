"""Which tasks the server's export holds without download_all_tasks (label_studio_node
convert-export) and which label config the module hands the converter (label_studio_export)."""
from __future__ import annotations

import importlib.util

import pytest

from support import node_package  # noqa: F401  (puts label_studio_node on sys.path)
from support.playbook import REPO
from label_studio_node.convert_export import served_tasks


def test_tasks_with_any_annotation_are_served_in_the_full_exports_order():
    # ExportAPI: Task.objects.filter(annotations__isnull=False): a skipped annotation counts.
    tasks = [{"id": 3, "annotations": [{"id": 1, "was_cancelled": True}]},
             {"id": 1, "annotations": []},
             {"id": 2, "annotations": [{"id": 2, "result": []}]},
             {"id": 4}]
    assert [t["id"] for t in served_tasks(tasks)] == [3, 2]


def load_module():
    spec = importlib.util.spec_from_file_location("label_studio_export", REPO / "library/label_studio_export.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_converter_gets_the_parsed_config_or_else_the_xml():
    export = load_module()
    parsed = {"remarks": {"type": "TextArea", "to_name": ["reference0"]}}
    assert export.converter_config({"parsed_label_config": parsed, "label_config": "<View/>"}) == parsed
    assert export.converter_config({"parsed_label_config": None, "label_config": "<View/>"}) == "<View/>"
    with pytest.raises(export.LabelStudioError):
        export.converter_config({"id": 1})
