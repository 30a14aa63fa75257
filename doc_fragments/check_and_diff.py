# -*- coding: utf-8 -*-
"""What check mode and diff mode mean, for the modules that say how far they support them."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Each module adds its own support (full, partial, none) and details under these names.
    DOCUMENTATION = r"""
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode) when in diff mode.
"""
