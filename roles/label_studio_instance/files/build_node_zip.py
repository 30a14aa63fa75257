#!/usr/bin/env python3
"""Build the node package as one zip (controller side): usage build_node_zip.py PACKAGE_DIR.

One file crosses to the node in one module run (a directory copy costs a module run per file,
about ten seconds of every deploy), and `PYTHONPATH=ZIP python -m label_studio_node` imports
from it. The same sources give the same bytes (sorted names, fixed timestamps and modes), so a
re-run finds the node's copy as wanted. Symlinked sources (the files shared with module_utils)
are stored as the files they point to. It writes nothing: it prints {"sha1": ..., "base64": ...}
of the zip, and the deploy compares the sha1 with the node's copy and hands the bytes to
label_studio_files (content_base64) only when they differ.
"""
import base64
import hashlib
import io
import json
import sys
import zipfile
from pathlib import Path

FIXED_TIME = (1980, 1, 1, 0, 0, 0)


def build(package: Path) -> bytes:
    """The zip's bytes: every .py file of package, under the package's name."""
    sources = sorted(p for p in package.iterdir() if p.suffix == ".py" and p.is_file())
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for source in sources:
            entry = zipfile.ZipInfo("%s/%s" % (package.name, source.name), FIXED_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            archive.writestr(entry, source.read_bytes())
    return buffer.getvalue()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__.splitlines()[0])
    data = build(Path(sys.argv[1]))
    print(json.dumps({"sha1": hashlib.sha1(data).hexdigest(),
                      "base64": base64.b64encode(data).decode("ascii")}))
