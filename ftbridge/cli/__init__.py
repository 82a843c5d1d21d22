"""The ``ftbridge`` command: a thin layer over the public API, one module per command.

Exit codes (also in the README):

====  ==============================================================
0     success (``validate``: the dataset is valid)
1     the dataset is invalid, or the job failed / was cancelled / did not succeed
2     usage error, bad configuration, unreadable input, unknown job, damaged job store,
      output that cannot be written
3     the provider refused or failed the request
4     ``wait`` timed out (the job goes on)
130   interrupted
141   standard output was closed (``| head``): stops quietly, as other unix tools do
====  ==============================================================
"""

from __future__ import annotations

import argparse
import errno
import importlib
import sys
from collections.abc import Sequence

from .._exceptions import (
    ConfigError,
    DatasetError,
    FtbridgeError,
    InferenceError,
    JobCancelledError,
    JobFailedError,
    JobNotFoundError,
    JobNotSucceededError,
    JobTimeoutError,
    ProviderError,
    StoreError,
)
from .._secrets import scrubbed_output
from ..validation._errors import DatasetValidationError
from ._output import OutputError, discard_stdout, guarded_stdout

# Each module defines ``register(subparsers)``, which adds its parser and sets ``handler``.
_COMMAND_MODULES = (
    "_validate",
    "_submit",
    "_follow",
    "_manage",
    "_chat",
    "_info",
    "_recover",
    "_eval",
    "_plot",
    "_migrate",
    "_serve",
)


# Writes that fail for the disk's sake, whatever the file: said in a sentence, exit 2.
_WRITE_ERRNOS = frozenset(
    getattr(errno, name) for name in ("ENOSPC", "EDQUOT", "EFBIG", "EROFS") if hasattr(errno, name)
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ftbridge",
        description="Validate a fine-tuning dataset once, train it on any provider, chat with it.",
    )
    from .. import __version__

    parser.add_argument("--version", action="version", version=f"ftbridge {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in _COMMAND_MODULES:
        importlib.import_module(f".{name}", __name__).register(sub)
    return parser


def exit_code_for(exc: FtbridgeError) -> int:
    if isinstance(exc, JobTimeoutError):
        return 4
    if isinstance(exc, (JobFailedError, JobCancelledError, JobNotSucceededError)):
        return 1
    if isinstance(exc, DatasetValidationError):  # invalid data, as `validate` exits
        return 1
    if isinstance(exc, (ConfigError, DatasetError, JobNotFoundError, StoreError)):
        return 2
    if isinstance(exc, ProviderError):
        return 3
    if isinstance(exc, InferenceError) and isinstance(exc.__cause__, ProviderError):
        return 3  # a chat the provider refused or failed (a wrong key, a rate limit)
    return 1


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default ``sys.argv[1:]``) and return the exit code."""
    with scrubbed_output():  # no configured secret reaches the terminal, whatever prints it
        return _main(argv)


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        return int(exc.code or 0)
    try:
        with guarded_stdout():
            return int(args.handler(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except FtbridgeError as exc:
        print(f"ftbridge: error: {exc}", file=sys.stderr)
        return exit_code_for(exc)
    except OutputError as exc:
        discard_stdout()
        if isinstance(exc.error, BrokenPipeError):  # `| head` stopped reading: quiet, as cat
            return 141
        reason = exc.error.strerror or str(exc.error)
        print(f"ftbridge: error: cannot write output: {reason}", file=sys.stderr)
        return 2
    except OSError as exc:
        if exc.filename is None and exc.errno not in _WRITE_ERRNOS:
            raise  # not about a file the user named, nor a full disk: a real fault, shown whole
        if exc.filename is None:  # a write that failed once the file was open (a full disk)
            print(f"ftbridge: error: cannot write: {exc.strerror or exc}", file=sys.stderr)
            return 2
        # a file the user named cannot be read or written (`-o` into a missing directory, a
        # directory where a file was meant): name it, as for any other unreadable input
        reason = exc.strerror or str(exc)
        text = reason if str(exc.filename) in reason else f"{exc.filename}: {reason}"
        print(f"ftbridge: error: {text}", file=sys.stderr)
        return 2


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
