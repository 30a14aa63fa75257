# -*- coding: utf-8 -*-
"""Connection options shared by every label_studio_* module (module_utils/label_studio_client.py)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
options:
  url:
    description: Base URL of Label Studio as seen from the managed node.
    type: str
    default: http://127.0.0.1:8080
  token:
    description: API token. Mutually exclusive with O(token_file).
    type: str
  token_file:
    description: File on the managed node holding the API token (written 0600 by deploy).
    type: path
  timeout:
    description: Seconds to wait for one API answer (large exports take a while).
    type: int
    default: 600
  wait_seconds:
    description: Seconds to keep retrying while the server is not reachable (restarting).
    type: int
    default: 60
"""
