"""The ``ezclip-zoo`` command line. Each subcommand lives in its own module with a ``register(subparsers)``."""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings
from collections.abc import Sequence
from typing import TextIO

from ..errors import EZCLIPError

__all__ = ["main", "build_parser"]

# Subcommand modules, in the order `ezclip-zoo --help` lists them.
_SUBCOMMANDS = (
    "classify",
    "localize",
    "watch",
    "explain",
    "index",
    "search",
    "embed",
    "finetune",
    "evaluate",
    "listing",
    "download",
    "convert",
    "export",
    "demo",
)


def build_parser() -> argparse.ArgumentParser:
    """The ``ezclip-zoo`` argument parser with every command registered (imports neither torch nor numpy).

    ``build_parser().parse_args(["classify", "clip.mp4", "-m", "ezclip-test-tiny"])`` checks a command line without
    running it; `main` parses and runs.
    """
    parser = argparse.ArgumentParser(
        prog="ezclip-zoo", description="EZ-CLIP zero-shot video action recognition: models, checkpoints, inference."
    )
    from .._version import __version__

    parser.add_argument("--version", action="version", version=f"ezclip-zoo {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for name in _SUBCOMMANDS:
        importlib.import_module(f"{__name__}.{name}").register(subparsers)
    return parser


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    """Warnings as one line a person reads (``ezclip-zoo: warning: ...``), not a source location."""
    print(f"ezclip-zoo: warning: {message}", file=file or sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit code (0 success, 1 a reported error, 2 bad usage)."""
    args = build_parser().parse_args(argv)
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            return int(args.func(args) or 0)
    except (EZCLIPError, FileNotFoundError, ValueError) as exc:
        print(f"ezclip-zoo {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # output piped into `head` and the like
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
