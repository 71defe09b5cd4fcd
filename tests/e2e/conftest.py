"""Running the real ``helpthread`` process as a subprocess on a fresh SQLite database."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

HELPTHREAD = str(Path(sys.executable).with_name("helpthread"))
SAMPLES = Path(__file__).resolve().parents[2] / "samples"  # copied from ../shared/samples


def clean_env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SLACK_", "DISCORD_", "HELPTHREAD_"))}
    env["HELPTHREAD_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp / 'desk.db'}"
    return env


@pytest.fixture
def run_helpthread(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    def run(script: str, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([HELPTHREAD, *(args or ("run",))], input=script, text=True,
                              capture_output=True, cwd=tmp_path, env=clean_env(tmp_path),
                              timeout=120)
    return run
