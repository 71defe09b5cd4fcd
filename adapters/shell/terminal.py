"""The shell's terminal: echo turned off while a sensitive answer is typed."""

from __future__ import annotations

from typing import Any, TextIO


class NoEcho:
    """getpass-style: the terminal stops echoing while a sensitive answer is typed, so
    it never shows on screen (a script's echo masks it instead)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.saved: list[Any] | None = None

    def hide(self) -> None:
        if self.saved is not None:
            return
        try:
            import termios
            fd = self.stream.fileno()
            attrs = termios.tcgetattr(fd)
            quiet = list(attrs)
            quiet[3] &= ~termios.ECHO
            termios.tcsetattr(fd, termios.TCSAFLUSH, quiet)
        except (ImportError, OSError, ValueError):
            return  # not a terminal we can quiet (termios.error is an OSError)
        self.saved = attrs

    def show(self) -> bool:
        """Echo back on; True if it had been off (the Enter was not echoed either)."""
        if self.saved is None:
            return False
        import termios
        termios.tcsetattr(self.stream.fileno(), termios.TCSADRAIN, self.saved)
        self.saved = None
        return True
