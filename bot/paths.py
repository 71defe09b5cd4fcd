"""Output paths named on the command line (``report --png/--html``, ``export --out``):
checked before any work, so a path that cannot be written wastes nothing."""

from __future__ import annotations

import os
from pathlib import Path


class BadPath(ValueError):
    """An output option's path cannot be a file; ``str()`` names the option and why."""


def output_path(option: str, value: str, name: str, *, into_directory: bool = True) -> Path:
    """Where an output option (``option``: ``--png``, ``--out``…) writes, given ``value``
    as typed: an existing directory gets ``name`` in it (``--png out/`` writes
    ``out/report.png``, as ``cp`` would; with ``into_directory=False`` a directory is
    refused); a path ending in a separator must be such a directory (pathlib would drop
    the separator and write a file named ``out``). Raises ``BadPath`` for that, for an
    empty path, and for a file that could not be written: its directory missing, not a
    directory, or not writable, or the file itself not writable — so the work is not
    done (nor the database read) only to fail at the end."""
    if not value.strip():
        raise BadPath(f"{option}: the path is empty; name a file, like {option} {name}")
    path = Path(value)
    if path.is_dir():
        if not into_directory:
            raise BadPath(f"{option} {value}: cannot write it (a directory); name a file "
                          f"in it, like {option} {path / name}")
        return path / name
    if value.endswith((os.sep, "/")) or (os.altsep and value.endswith(os.altsep)):
        raise BadPath(f"{option} {value}: no such directory")
    _writable(option, value, path)
    return path


def _writable(option: str, value: str, path: Path) -> None:
    """``BadPath`` unless ``path`` (no directory) can be created or overwritten."""
    parent = path.parent
    if not parent.exists():
        raise BadPath(f"{option} {value}: no such directory {parent}")
    if not parent.is_dir():
        raise BadPath(f"{option} {value}: {parent} is not a directory")
    if path.exists():
        if not os.access(path, os.W_OK):
            raise BadPath(f"{option} {value}: cannot write the file (no permission)")
    elif not os.access(parent, os.W_OK | os.X_OK):
        raise BadPath(f"{option} {value}: cannot write in {parent} (no permission)")
