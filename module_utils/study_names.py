# -*- coding: utf-8 -*-
"""Batch and annotator names: the one rule that makes them safe as parts of file names.

Names end up in file names: task files ({batch}-{annotator}-tasks.json), exports
({date}-{annotator}.json and .full.json next to {date}-users.json, {date}-annotations.csv/.xlsx
and {date}-unannotated.csv) and password files (annotators/{name}). A name is safe when it is

- one or more letters (any script, with their combining marks), digits, spaces, '.', '_' or '-';
- not starting with '.' (hidden files, '.' and '..') nor with or ending in a space;
- at most 100 bytes in UTF-8 (two names and a suffix stay under the usual 255-byte limit);
- not reserved: 'all' (the sheet's word for every annotator, and batch=all), and for annotators
  the names of the export dir's other files ('users', 'annotations', 'unannotated') and any name
  ending in '.full' (its export would be another annotator's full export), all ignoring case.

Names that differ only in case are refused too (same_ignoring_case): laptops' file systems are
often case-insensitive, so 'Anna' and 'anna' would share their files there.
Pure functions, no Ansible: unit-tested in tests/unit/test_study_names.py.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import unicodedata

MAX_BYTES = 100
PUNCTUATION = " ._-"
ALL = "all"
# Names of the export dir's own files (export.yml): an annotator of that name would overwrite them.
EXPORT_FILES = ("users", "annotations", "unannotated")
FULL_SUFFIX = ".full"
KINDS = ("annotator", "batch")
PATTERN_TEXT = ("letters, digits, spaces, '.', '_' and '-'; not starting with '.', no space at "
                "either end, at most %d bytes" % MAX_BYTES)


def _allowed(char):
    category = unicodedata.category(char)
    return category[0] in ("L", "M") or category == "Nd" or char in PUNCTUATION


def name_problem(name, kind):
    """Why `name` cannot be a `kind` ('annotator' or 'batch') name, or None when it can."""
    if kind not in KINDS:
        raise ValueError("kind must be one of %s" % ", ".join(KINDS))
    if not isinstance(name, str):
        return "a name must be text, found %s" % type(name).__name__
    if not name:
        return "the name is empty"
    bad = sorted(set(char for char in name if not _allowed(char)))
    if bad:
        return "'%s' holds %s; a name may hold only %s" % (
            name, ", ".join(_show(char) for char in bad), PATTERN_TEXT)
    if unicodedata.category(name[0])[0] == "M":
        return "'%s' starts with a combining mark; a name may hold only %s" % (name, PATTERN_TEXT)
    if name.startswith("."):
        return "'%s' starts with '.'; a name may hold only %s" % (name, PATTERN_TEXT)
    if name != name.strip(" "):
        return "'%s' starts or ends with a space; a name may hold only %s" % (name, PATTERN_TEXT)
    if len(name.encode("utf-8")) > MAX_BYTES:
        return "'%s...' is longer than %d bytes in UTF-8" % (name[:20], MAX_BYTES)
    folded = fold(name)
    if folded == ALL:
        return ("'%s' is reserved (in the sheet 'all' means every annotator, and batch=all every "
                "batch)" % name)
    if kind == "annotator":
        if folded in EXPORT_FILES:
            return ("'%s' is reserved: export.yml writes {date}-%s.* for its own tables"
                    % (name, folded))
        if folded.endswith(FULL_SUFFIX):
            return ("'%s' is reserved: names ending in '%s' would collide with another "
                    "annotator's full export ({date}-NAME.full.json)" % (name, FULL_SUFFIX))
    return None


def fold(name):
    """The form two names share when a case-insensitive file system takes them for one."""
    return unicodedata.normalize("NFC", name).casefold()


def same_ignoring_case(names):
    """[(name, earlier name)] for every name equal to an earlier one ignoring case (not equal)."""
    first = {}
    clashes = []
    for name in names:
        if not isinstance(name, str):
            continue
        key = fold(name)
        if key in first and first[key] != name:
            clashes.append((name, first[key]))
        first.setdefault(key, name)
    return clashes


def _show(char):
    if char.isprintable() and not char.isspace():
        return "'%s'" % char
    return "U+%04X" % ord(char)


def path_inside(directory, file_name):
    """directory/file_name, asserting the file name cannot leave the directory.

    The names are validated long before; this is the last line should a caller forget.
    """
    if (not file_name or os.sep in file_name or (os.altsep and os.altsep in file_name)
            or file_name in (".", "..") or "\0" in file_name):
        raise ValueError("refusing the file name %r: it would not stay inside %s"
                         % (file_name, directory))
    path = os.path.join(directory, file_name)
    parent = os.path.dirname(os.path.abspath(path))
    if parent != os.path.abspath(directory):
        raise ValueError("refusing the file name %r: it would not stay inside %s"
                         % (file_name, directory))
    return path
