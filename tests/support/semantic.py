"""Whether the optional extra ``helpthread[semantic]`` is installed, and the marker that
skips a test needing it, saying so (``make test`` installs it)."""

from __future__ import annotations

import importlib.util

import pytest

WORDLLAMA = importlib.util.find_spec("wordllama") is not None
needs_wordllama = pytest.mark.skipif(
    not WORDLLAMA, reason="the optional extra helpthread[semantic] (the wordllama package) "
                          "is not installed")
