"""The node-side package (roles/label_studio_instance/files/label_studio_node) importable as
`label_studio_node`, as `python -m label_studio_node` finds it on the node (PYTHONPATH=state dir)."""
from __future__ import annotations

import sys
from pathlib import Path

PARENT = Path(__file__).resolve().parents[2] / "roles/label_studio_instance/files"
PACKAGE = PARENT / "label_studio_node"

# Importing from the role's files must not leave __pycache__ there: deploy copies that directory.
sys.dont_write_bytecode = True
if str(PARENT) not in sys.path:
    sys.path.insert(0, str(PARENT))
