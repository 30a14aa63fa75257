"""Where the project is, and its module_utils importable the way Ansible's modules import them.

The one import-path setup of the tests (bench/benchlib.py reuses it): pytest.ini's
`pythonpath = tests` makes `support` importable, and tests/conftest.py calls
use_project_module_utils() once, so every test imports `ansible.module_utils.X` as the modules do.
"""
from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MODULE_UTILS = REPO / "module_utils"


def use_project_module_utils() -> None:
    """Make ansible.module_utils.X resolve to the project's module_utils/X.py (idempotent)."""
    import ansible.module_utils

    if str(MODULE_UTILS) not in ansible.module_utils.__path__:
        ansible.module_utils.__path__.append(str(MODULE_UTILS))


# The node-side package (roles/label_studio_instance/files/label_studio_node), importable as
# label_studio_node the way `python -m label_studio_node` finds it on the node (PYTHONPATH).
NODE_PACKAGE_PARENT = REPO / "roles/label_studio_instance/files"


def use_node_package() -> None:
    """Make `import label_studio_node` find the role's package (idempotent); write no bytecode
    there, since deploy copies that directory to the node."""
    import sys

    sys.dont_write_bytecode = True
    if str(NODE_PACKAGE_PARENT) not in sys.path:
        sys.path.insert(0, str(NODE_PACKAGE_PARENT))
