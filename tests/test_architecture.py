"""The architecture holds: core stays free of Qt, napari and the shells, its subpackages
import in layers (import-linter contracts in pyproject.toml), and no module imports
itself through others (function-level imports included)."""

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import segviewer

FORBIDDEN = ("qtpy", "PySide6", "PyQt5", "PyQt6", "napari", "magicgui", "superqt", "vispy")
PACKAGE = Path(segviewer.__file__).parent
ROOT = PACKAGE.parent


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


def test_import_linter_contracts_are_kept():
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    result = subprocess.run([lint], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "broken" not in result.stdout.split("Contracts:")[-1].replace("0 broken", "")


def _imports(path: Path, name: str, known: set[str]) -> set[str]:
    """Modules of the package that ``path`` imports (anywhere but under TYPE_CHECKING)."""
    tree = ast.parse(path.read_text())
    skipped = {
        id(n)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for n in ast.walk(node)
    }
    found = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            targets = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def test_no_import_cycles_anywhere():
    files = {
        ".".join(f.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"): f
        for f in PACKAGE.rglob("*.py")
    }
    graph = {name: _imports(path, name, set(files)) for name, path in files.items()}
    # a package's __init__ re-exporting its modules is not a cycle through them
    graph = {
        name: {
            t for t in targets if not (name.startswith(t + ".") and files[t].name == "__init__.py")
        }
        for name, targets in graph.items()
    }
    state: dict[str, int] = {}
    cycles = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                cycles.append(" -> ".join([*path[path.index(target) :], target]))
            elif target not in state:
                visit(target, [*path, target])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert not cycles, cycles
