"""What the browser tests need: an optional package or Debian's chromium (a skip locally, a failure on CI, where
`.ci/run` installs both)."""

from __future__ import annotations

import os
import shutil

import pytest


def need(module: str):
    """The module, or a skip (locally) / a failure (on CI, where `.[dev]` installs it)."""
    try:
        return __import__(module)
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail(f"{module} is not installed: pip install -e '.[dev]'")
        pytest.skip(f"{module} is not installed (pip install -e '.[dev]')")


def chromium_path() -> str:
    """Debian's chromium (or $EZCLIP_CHROMIUM), or a skip (locally) / a failure (on CI)."""
    path = os.environ.get("EZCLIP_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("no chromium on PATH: .ci/run installs Debian's chromium with apt-get")
        pytest.skip("no chromium on PATH (apt-get install chromium, or set EZCLIP_CHROMIUM)")
    return path
