import pytest

from ansible.module_utils.label_studio_client import (LabelStudioError, exact_title_matches, listing_filter,
                                                      single_project)
from ansible.module_utils.label_studio_config import LabelConfigError
from ansible.module_utils.label_studio_project_plan import plan_project

CONFIG = "<View><Text name='t' value='$impression'/></View>"
PROJECTS = [{"id": 1, "title": "RRS: annotator1", "label_config": CONFIG, "description": ""},
            {"id": 2, "title": "RRS: annotator10", "label_config": CONFIG, "description": ""},
            {"id": 3, "title": "rrs: annotator1", "label_config": CONFIG, "description": ""}]


def test_exact_title_not_substring_nor_case_insensitive():
    assert [p["id"] for p in exact_title_matches(PROJECTS, "RRS: annotator1")] == [1]
    assert single_project(PROJECTS, "RRS: annotator2") is None


def test_duplicate_titles_fail_naming_ids():
    with pytest.raises(LabelStudioError, match=r"2 projects are titled 'X' \(ids 4, 7\)"):
        single_project([{"id": 7, "title": "X"}, {"id": 4, "title": "X"}], "X")


def test_create_when_missing():
    plan = plan_project(None, "T", CONFIG, None, "present")
    assert plan.create == {"title": "T", "label_config": CONFIG} and plan.changed
    assert plan.diff["before"] == {} and plan.diff["after"]["label_config"] == CONFIG


def test_same_config_with_other_whitespace_is_no_change():
    plan = plan_project(PROJECTS[0], "RRS: annotator1", CONFIG.replace("<Text", "\n  <Text"), None, "present")
    assert not plan.changed


def test_changed_config_and_description_are_updates_with_diff():
    new = CONFIG.replace("$impression", "$candidate0")
    plan = plan_project(PROJECTS[0], "RRS: annotator1", new, "d", "present")
    assert plan.update == {"label_config": new, "description": "d"}
    assert plan.diff["before"]["label_config"] == CONFIG and plan.diff["after"]["label_config"] == new


def test_absent():
    assert plan_project(PROJECTS[0], "x", None, None, "absent").delete
    assert not plan_project(None, "x", None, None, "absent").changed


def test_broken_config_fails_before_any_write():
    with pytest.raises(LabelConfigError):
        plan_project(PROJECTS[0], "RRS: annotator1", "<View><Text></View>", None, "present")


def test_too_long_title_is_refused_before_any_write():
    with pytest.raises(ValueError, match="51 characters long; Label Studio allows at most 50"):
        plan_project(None, "x" * 51, CONFIG, None, "present")


# ---- several projects in one module run (label_studio_project titles=...) ----
from ansible.module_utils.label_studio_project_plan import plan_projects  # noqa: E402


def test_plan_projects_decides_each_title_against_one_listing():
    plans = plan_projects(PROJECTS, ["RRS: annotator1", "RRS: annotator2"], CONFIG, None, "present")
    assert [(title, project and project["id"]) for title, project, _ in plans] == [
        ("RRS: annotator1", 1), ("RRS: annotator2", None)]
    assert not plans[0][2].changed
    assert plans[1][2].create == {"title": "RRS: annotator2", "label_config": CONFIG}


def test_plan_projects_refuses_a_title_twice():
    with pytest.raises(ValueError, match=r"'T' is listed twice"):
        plan_projects([], ["T", "U", "T"], CONFIG, None, "present")


def test_plan_projects_names_the_title_whose_plan_fails_before_any_write():
    twins = PROJECTS + [{"id": 9, "title": "RRS: annotator10", "label_config": CONFIG}]
    with pytest.raises(LabelStudioError, match=r"project 'RRS: annotator10': 2 projects are titled"):
        plan_projects(twins, ["RRS: annotator1", "RRS: annotator10"], CONFIG, None, "present")
    with pytest.raises(ValueError, match=r"project 'X{51}': the title is 51 characters"):
        plan_projects([], ["ok", "X" * 51], CONFIG, None, "present")


def test_plan_projects_diff_is_keyed_by_title():
    from ansible.module_utils.label_studio_project_plan import projects_diff
    plans = plan_projects(PROJECTS, ["RRS: annotator1", "new"], CONFIG, None, "present")
    diff = projects_diff(plans)
    assert diff["before"] == {"new": {}} and diff["after"]["new"]["title"] == "new"


def test_listing_filter_keeps_every_wanted_project_in_the_listing():
    """The project listing is filtered by the titles' common start (Label Studio keeps the titles
    that contain it); the module still matches titles exactly."""
    assert listing_filter(["RRS: annotator1"]) == "RRS: annotator1"
    assert listing_filter(["RRS: annotator1", "RRS: annotator10", "RRS: annotator2"]) == "RRS: annotator"
    assert listing_filter(["RRS: a", "Other"]) is None
    assert listing_filter([]) is None
    assert listing_filter(["Épanchement ✓ b", "Épanchement ✓ a"]) == "Épanchement ✓ "
