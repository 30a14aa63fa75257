#!/usr/bin/env python3
"""Build the node package as one zip (controller side): usage build_node_zip.py PACKAGE_DIR ZIP|--sha1.

One file crosses to the node with one copy (a directory copy costs a module run per file, about
ten seconds of every deploy), and `PYTHONPATH=ZIP python -m label_studio_node` imports from it.
The same sources give the same bytes (sorted names, fixed timestamps and modes), so the copy
after it reports no change on a re-run. Symlinked sources (the files shared with module_utils)
are stored as the files they point to. With --sha1 instead of ZIP it writes nothing and prints
the sha1 of the bytes it would write, so the deploy copies nothing when the node's copy has it.
"""
import hashlib
import io
import sys
import zipfile
from pathlib import Path

FIXED_TIME = (1980, 1, 1, 0, 0, 0)


def build(package: Path, target) -> None:
    """Write the zip to target (a path or a binary file object)."""
    sources = sorted(p for p in package.iterdir() if p.suffix == ".py" and p.is_file())
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for source in sources:
            entry = zipfile.ZipInfo("%s/%s" % (package.name, source.name), FIXED_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            archive.writestr(entry, source.read_bytes())


def sha1(package: Path) -> str:
    """The sha1 of the zip build() writes for package."""
    buffer = io.BytesIO()
    build(package, buffer)
    return hashlib.sha1(buffer.getvalue()).hexdigest()


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__.splitlines()[0])
    if sys.argv[2] == "--sha1":
        print(sha1(Path(sys.argv[1])))
    else:
        build(Path(sys.argv[1]), Path(sys.argv[2]))
