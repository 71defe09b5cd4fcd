"""Logs: JSON lines in production keep the traceback of a failure."""

from __future__ import annotations

import json
import logging

import pytest

from bot import logs


def test_json_logs_carry_the_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        logs.configure("json")
        try:
            raise ValueError("the card vanished")
        except ValueError:
            logging.getLogger("helpthread.test").exception("delivery failed")
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert line["event"] == "delivery failed" and line["level"] == "error"
    assert "Traceback" in line["exception"] and "the card vanished" in line["exception"]
