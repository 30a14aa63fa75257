from pathlib import Path

import pytest

from ansible.module_utils.label_studio_config import (LabelConfigError, exported_values,
                                                      normalize_label_config, parse_label_config,
                                                      referenced_fields)

STUDY_CONFIG = Path(__file__).resolve().parents[2] / "files/study/label-config.xml"


def test_fields_of_the_study_config():
    assert referenced_fields(STUDY_CONFIG.read_text()) == [
        "candidate0", "candidate1", "candidate2", "candidate3", "impression"]


def test_fields_inside_text_and_nested_references():
    xml = '<View><Header value="Report $meta.title"/><Text name="t" value="$impression"/></View>'
    assert referenced_fields(xml) == ["impression", "meta"]


@pytest.mark.parametrize("xml, message", [
    ("", "empty"),
    ("<View><Text name='a' value='$x'></View>", "not well-formed XML: mismatched tag: line 1"),
    ("<Text name='a' value='$x'/>", "root element must be <View>"),
])
def test_broken_configs_are_named(xml, message):
    with pytest.raises(LabelConfigError, match=message):
        referenced_fields(xml)


def test_whitespace_between_tags_does_not_count_as_a_change():
    a = "<View>\n  <Text name='a' value='$x'/>\n</View>"
    b = "<View><Text name='a' value='$x'/></View>"
    assert normalize_label_config(a) == normalize_label_config(b)
    assert normalize_label_config(a) != normalize_label_config(b.replace("$x", "$y"))


# --- the study's config exports exactly the original study's values (STUDY.md, issue 14) -----------

OMISSIONS = {"1a": "1a. Finding/interpretation", "1b": "1b. Comparison",
             "1c": "1c. Reference to report while comparing",
             "1d": "1d. Next steps/recommendation/communications"}
ADDITIONS = {"2a": "2a. Finding/interpretation", "2b": "2b. Comparison",
             "2c": "2c. Reference to report while comparing",
             "2d": "2d. Next steps/recommendation/communication",
             "2e": "2e. Finding/interpretation + contradiction"}
LOCATION = "3. Incorrect location/position of finding"
SEVERITY = "4. Incorrect severity of finding"
OTHER = "5. Other difference between candidate and reference (please describe...)"


def test_the_study_config_exports_the_original_values():
    values = exported_values(STUDY_CONFIG.read_text())
    expected = {}
    for i in range(4):
        expected["candidate%d-labels-omissions" % i] = list(OMISSIONS)
        expected["candidate%d-labels-additions" % i] = list(ADDITIONS)
        expected["candidate%d-errors" % i] = [LOCATION, SEVERITY, "other"]
    assert values == expected


def test_exported_values_take_the_alias_over_the_value():
    xml = ('<View><Text name="t" value="$x"/><Labels name="l" toName="t">'
           '<Label value="Long text" alias="a"/><Label value="plain"/></Labels>'
           '<Choices name="c" toName="t"><Choice value="Yes, really" alias="yes"/></Choices></View>')
    assert exported_values(xml) == {"l": ["a", "plain"], "c": ["yes"]}


def by_name(root):
    return {element.get("name"): element for element in root.iter() if element.get("name")}


def test_the_study_config_shows_the_original_wording_and_structure():
    root = parse_label_config(STUDY_CONFIG.read_text())
    named = by_name(root)
    parents = {child: parent for parent in root.iter() for child in parent}
    for i in range(4):
        block = parents[named["reference%d" % i]]
        assert block.find("Header").get("value") == "Candidate %d" % (i + 1)
        assert named["reference%d" % i].get("value") == "$impression"
        assert named["candidate%d" % i].get("value") == "$candidate%d" % i
        assert {t.get("name"): t.get("granularity") for t in block.iter("Text")} == {
            "reference%d" % i: "word", "candidate%d" % i: "word"}
        omissions = named["candidate%d-labels-omissions" % i]
        additions = named["candidate%d-labels-additions" % i]
        assert (omissions.get("toName"), additions.get("toName")) == (
            "reference%d" % i, "candidate%d" % i)
        assert {l.get("alias"): l.get("value") for l in omissions} == OMISSIONS
        assert {l.get("alias"): l.get("value") for l in additions} == ADDITIONS
        errors = named["candidate%d-errors" % i]
        assert errors.get("choice") == "multiple"
        assert [(c.get("value"), c.get("alias")) for c in errors] == [
            (LOCATION, None), (SEVERITY, None), (OTHER, "other")]
        # The other-text shows when "5. Other ..." is ticked (visibleWhen matches the alias, as
        # the labeling UI does: checked in tests/integration/test_browser.py), required, once.
        other = named["errors-candidate%d-other" % i]
        shown_when = parents[other]
        assert (shown_when.get("visibleWhen"), shown_when.get("whenTagName"),
                shown_when.get("whenChoiceValue")) == ("choice-selected", errors.get("name"), "other")
        assert (other.tag, other.get("required"), other.get("maxSubmissions")) == (
            "TextArea", "true", "1")
    duration, remarks = named["duration-minutes"], named["remarks"]
    assert (duration.tag, duration.get("required"), duration.get("maxSubmissions")) == (
        "TextArea", "true", "1")
    assert (remarks.tag, remarks.get("required"), remarks.get("maxSubmissions")) == (
        "TextArea", None, "1")
    assert [e.get("name") for e in root.iter("TextArea")] == [
        "errors-candidate0-other", "errors-candidate1-other", "errors-candidate2-other",
        "errors-candidate3-other", "duration-minutes", "remarks"]
