"""The one exception type users see: a clear message, never a traceback."""

from __future__ import annotations


class SegviewerError(ValueError):
    """Bad input that we recognise: the message says what, where, and what was expected.

    The napari shell turns it into a notification; the CLI prints it on one line of stderr
    and exits with status 2.
    """
