# -*- coding: utf-8 -*-
"""The study's task key, an option of every module that matches tasks to reports."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
options:
  key:
    description:
      - Task data field that carries the report id (group_vars' C(study_key)); it identifies a
        task within a project.
    type: str
    default: study_id
"""
