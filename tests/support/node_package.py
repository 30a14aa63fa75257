"""The node-side package (roles/label_studio_instance/files/label_studio_node) importable as
`label_studio_node`, as `python -m label_studio_node` finds it on the node (PYTHONPATH=state dir).
Importing this module is enough (support.paths does the path, once)."""
from __future__ import annotations

from support.paths import NODE_PACKAGE_PARENT, use_node_package

PARENT = NODE_PACKAGE_PARENT
PACKAGE = PARENT / "label_studio_node"

use_node_package()
