"""segviewer.core stays free of Qt and napari (checked on the real import graph)."""

import subprocess
import sys

FORBIDDEN = ("qtpy", "PySide6", "PyQt5", "PyQt6", "napari", "magicgui", "superqt", "vispy")


def test_core_imports_neither_qt_nor_napari():
    code = (
        "import pkgutil, importlib, sys, segviewer.core as core\n"
        "for m in pkgutil.walk_packages(core.__path__, 'segviewer.core.'): importlib.import_module(m.name)\n"
        "import segviewer.cli\n"
        "print(' '.join(sorted({n.split('.')[0] for n in sys.modules})))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert not set(loaded.stdout.split()) & set(FORBIDDEN)
