"""Names that become path components: class names (folders ``masks/CLASS``) and sample names
(files ``NAME.ext``). Each must be one plain file name, so that no reader or writer can be led
outside its folder (``../x``), into a hidden file, or to a name the file system refuses.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from segviewer.core.errors import SegviewerError

MAX_NAME_BYTES = 255  # the longest file name of common file systems
EXPECTED = (
    "expected a plain name usable as a file name (no '/', '\\', control characters or leading "
    "'.', at most 255 bytes)"
)


def name_problem(name: object) -> str | None:
    """Why ``name`` cannot be a path component, or None if it can."""
    if not isinstance(name, str):
        return f"is a {type(name).__name__}, not text"
    if not name.strip():
        return "is empty"
    if "/" in name or "\\" in name:
        return "contains a path separator"
    if name.startswith("."):
        return "starts with '.'"
    if any(unicodedata.category(ch) == "Cc" for ch in name):
        return "contains a control character"
    if len(name.encode("utf-8", "surrogateescape")) > MAX_NAME_BYTES:
        return f"is longer than {MAX_NAME_BYTES} bytes"
    return None


def check_name(name: object, where: str, what: str = "class name") -> str:
    """Return ``name`` if it is a plain path component; else refuse it, naming ``where``."""
    problem = name_problem(name)
    if problem:
        raise SegviewerError(f"{where}: {what} {name!r} {problem}; {EXPECTED}")
    return name  # type: ignore[return-value]


def check_class_names(names: Iterable[object], where: str) -> list[str]:
    """Refuse class names that are not plain path components, or that repeat."""
    checked = [check_name(name, where) for name in names]
    seen: set[str] = set()
    for name in checked:
        if name in seen:
            raise SegviewerError(
                f"{where}: class {name!r} is named twice; expected unique class names"
            )
        seen.add(name)
    return checked
