"""Where ftbridge keeps its state: ``$FTBRIDGE_HOME`` (default ``~/.ftbridge``)."""

from __future__ import annotations

import errno
import os
from pathlib import Path


def home_path() -> Path:
    """Where the state directory is (``home()`` also creates it)."""
    return Path(os.environ.get("FTBRIDGE_HOME") or Path.home() / ".ftbridge").expanduser()


def home() -> Path:
    """The state directory, created with mode 0700 on first use."""
    root = home_path()
    if not root.is_dir():
        if root.exists() or root.is_symlink():
            # an OSError, as mkdir's own, so that callers which go on without a home (the
            # validation cache) still do; its text says what is wrong instead of "File exists"
            where = "FTBRIDGE_HOME" if os.environ.get("FTBRIDGE_HOME") else "the state directory"
            raise NotADirectoryError(
                errno.ENOTDIR, f"{where} {root} is a file, not a directory", str(root)
            )
        root.mkdir(parents=True, exist_ok=True)
        root.chmod(0o700)
    return root


def subdir(name: str) -> Path:
    """A directory under ``home()`` (``datasets``, ``runs``...), created on first use."""
    path = home() / name
    path.mkdir(parents=True, exist_ok=True)
    return path
