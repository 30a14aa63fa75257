# -*- coding: utf-8 -*-
"""Pure helpers for Label Studio label configs (no server needed)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import xml.etree.ElementTree as ET

# "$field" references in attribute values: value="$impression", toName is a tag name, not data.
_FIELD_REF = re.compile(r"\$([A-Za-z_][A-Za-z0-9_.\-]*)")


class LabelConfigError(ValueError):
    """The label config is not usable; the message says where."""


def parse_label_config(xml_text):
    """Parse the XML and return the root element, or raise LabelConfigError naming the problem."""
    if not xml_text or not xml_text.strip():
        raise LabelConfigError("the label config is empty")
    try:
        root = ET.fromstring(xml_text)
    except ET.ParseError as err:
        raise LabelConfigError("the label config is not well-formed XML: %s" % err)
    if root.tag != "View":
        raise LabelConfigError("the label config's root element must be <View>, not <%s>" % root.tag)
    return root


def referenced_fields(xml_text):
    """Task data fields the config shows (every "$name" in an attribute), sorted.

    Label Studio refuses an import whose tasks lack any of them, so check before writing.
    """
    root = parse_label_config(xml_text)
    fields = set()
    for element in root.iter():
        for value in element.attrib.values():
            for match in _FIELD_REF.finditer(value):
                # "$a.b" reads a nested value; the task needs the top-level key.
                fields.add(match.group(1).split(".")[0])
    return sorted(fields)


def normalize_label_config(xml_text):
    """Whitespace-insensitive form used to decide whether a project's config differs."""
    root = parse_label_config(xml_text)
    for element in root.iter():
        if element.text is not None and not element.text.strip():
            element.text = None
        if element.tail is not None and not element.tail.strip():
            element.tail = None
    return ET.tostring(root, encoding="unicode")


# Tags whose children are the values an annotation can hold (Label, Choice).
_VALUE_CONTROLS = ("Labels", "HyperTextLabels", "ParagraphLabels", "Choices")


def exported_values(xml_text):
    """{control name: [value, ...]}: what an annotation (and so every export) holds per control.

    Label Studio stores a Label's or Choice's alias when it has one, else its value; the value
    is then only the text annotators see. So an analysis keys on these, not on the display text.
    """
    root = parse_label_config(xml_text)
    values = {}
    for element in root.iter():
        if element.tag in _VALUE_CONTROLS and element.get("name"):
            values[element.get("name")] = [child.get("alias") or child.get("value")
                                           for child in element.iter()
                                           if child is not element and child.tag in ("Label", "Choice")]
    return values
