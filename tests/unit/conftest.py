"""Unit tests import the project's module_utils the way modules do (ansible.module_utils.X)."""
from pathlib import Path

import ansible.module_utils

MODULE_UTILS = str(Path(__file__).resolve().parents[2] / "module_utils")
if MODULE_UTILS not in ansible.module_utils.__path__:
    ansible.module_utils.__path__.append(MODULE_UTILS)
