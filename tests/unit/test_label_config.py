from pathlib import Path

import pytest

from ansible.module_utils.label_studio_config import (LabelConfigError, normalize_label_config,
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
