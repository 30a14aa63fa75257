# -*- coding: utf-8 -*-
"""What the analysis needs from the label config: candidates, span labels, error choices.

Read from the XML so the analysis follows the study's config (label values, aliases, number of
candidates) instead of a copy of it in code.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible.module_utils.label_studio_config import LabelConfigError, parse_label_config

KINDS = ("omissions", "additions")
_CANDIDATE = re.compile(r"candidate([0-9]+)")


class StudyScheme:
    """Controls and exported values of the study's label config.

    spans[i][kind] = Labels control name; labels[kind] = exported label values in config order;
    errors = exported error choice values (choices that open no text box); choices[i] = the
    Choices control of candidate i; other_texts[i] = TextArea names a choice opens ("other").
    """

    def __init__(self):
        self.candidates = []
        self.spans = {}
        self.labels = dict((kind, []) for kind in KINDS)
        self.errors = []
        self.choices = {}
        self.other_texts = {}

    def categories(self):
        return self.labels["omissions"] + self.labels["additions"] + self.errors


def exported(element):
    """The value Label Studio exports for a Label/Choice: its alias when it has one."""
    return element.get("alias") or element.get("value")


def _candidate(name):
    match = _CANDIDATE.search(name or "")
    return int(match.group(1)) if match else None


def read_scheme(xml_text, where="the label config"):
    """StudyScheme from the label config; LabelConfigError naming what is missing."""
    try:
        root = parse_label_config(xml_text)
    except LabelConfigError as err:
        raise LabelConfigError("%s: %s" % (where, err))
    scheme = StudyScheme()
    gates = {}  # (choices name, choice value) -> [TextArea names it shows]
    for view in root.iter("View"):
        if view.get("visibleWhen") == "choice-selected" and view.get("whenTagName"):
            areas = [area.get("name") for area in view.iter("TextArea") if area.get("name")]
            gates.setdefault((view.get("whenTagName"), view.get("whenChoiceValue")), []).extend(areas)
    for element in root.iter("Labels"):
        name = element.get("name") or ""
        index = _candidate(name)
        kind = next((k for k in KINDS if name.endswith(k)), None)
        if index is None or kind is None:
            continue
        scheme.spans.setdefault(index, {})[kind] = name
        for label in element.iter("Label"):
            value = exported(label)
            if value and value not in scheme.labels[kind]:
                scheme.labels[kind].append(value)
    for element in root.iter("Choices"):
        name = element.get("name") or ""
        index = _candidate(name)
        if index is None:
            continue
        scheme.choices[index] = name
        texts = []
        for choice in element.iter("Choice"):
            opened = gates.get((name, choice.get("value")), []) + (
                gates.get((name, choice.get("alias")), []) if choice.get("alias") else [])
            if opened:
                texts.extend(opened)
                continue
            value = exported(choice)
            if value and value not in scheme.errors:
                scheme.errors.append(value)
        scheme.other_texts[index] = texts
    scheme.candidates = sorted(scheme.spans)
    if not scheme.candidates:
        raise LabelConfigError("%s has no Labels control named candidate<i>-labels-omissions or "
                               "candidate<i>-labels-additions" % where)
    return scheme
