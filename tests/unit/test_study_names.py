"""Batch and annotator names as parts of file names (issue 13, item 6): the one rule."""
from __future__ import annotations

import pytest

from ansible.module_utils.study_names import name_problem, path_inside, same_ignoring_case


@pytest.mark.parametrize("name", ["annotator1", "batch2", "Anna Müller", "José", "Łukasz-2",
                                  "李雷", "Ольга", "a.b_c-d", "3", "x.fullname", "user",
                                  "e\u0301clair"])
@pytest.mark.parametrize("kind", ["annotator", "batch"])
def test_safe_names_pass(name, kind):
    assert name_problem(name, kind) is None


@pytest.mark.parametrize("name, words", [
    ("../../x", ["'/'"]),
    ("a/b", ["'/'"]),
    ("a\\b", ["'\\'"]),
    (".hidden", ["starts with '.'"]),
    ("..", ["starts with '.'"]),
    ("a\tb", ["U+0009"]),
    ("a\nb", ["U+000A"]),
    ("a\0b", ["U+0000"]),
    ("x:y", ["':'"]),
    ("a*", ["'*'"]),
    (" lead", ["space"]),
    ("trail ", ["space"]),
    ("", ["empty"]),
    ("\u0301x", ["combining mark"]),
    ("ab" * 51, ["100 bytes"]),
    ("é" * 51, ["100 bytes"]),  # 102 bytes in UTF-8
    ("ALL", ["reserved"]),
])
@pytest.mark.parametrize("kind", ["annotator", "batch"])
def test_unsafe_names_are_refused_saying_why(name, words, kind):
    problem = name_problem(name, kind)
    assert problem is not None
    for word in words:
        assert word in problem, problem


@pytest.mark.parametrize("name", ["users", "Users", "annotations", "UNANNOTATED", "x.full", "x.FULL"])
def test_export_file_names_are_reserved_for_annotators_only(name):
    assert "reserved" in name_problem(name, "annotator")
    assert name_problem(name, "batch") is None  # task files have their own dir and suffix


def test_text_only():
    assert "must be text" in name_problem(5, "batch")
    with pytest.raises(ValueError):
        name_problem("x", "project")


def test_names_equal_ignoring_case_are_found():
    assert same_ignoring_case(["anna", "Bob", "ANNA", "bob", "anna", "Straße", "STRASSE"]) == [
        ("ANNA", "anna"), ("bob", "Bob"), ("STRASSE", "Straße")]
    # Composed and decomposed é are one name on macOS too.
    assert same_ignoring_case(["\u00e9", "e\u0301"]) == [("e\u0301", "\u00e9")]
    assert same_ignoring_case(["a", "b", None]) == []


def test_paths_stay_inside_their_directory(tmp_path):
    assert path_inside(str(tmp_path), "b-a-tasks.json") == str(tmp_path / "b-a-tasks.json")
    for bad in ("../x", "a/b", "..", ".", "", "x\0y", "/etc/passwd"):
        with pytest.raises(ValueError, match="would not stay inside"):
            path_inside(str(tmp_path), bad)
