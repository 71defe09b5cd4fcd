"""``export --out`` writes what the path names (``bot.porting``): a regular file by a
rename once complete, a FIFO or a device as it is (never replaced by a file), the file
a symbolic link points to (the link kept); a path that cannot be a file is refused by
name before the database is opened. Found by a new user's trial: ``--out /dev/full``
once turned the device into a plain file and exited 0."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from bot.porting import CannotWrite, OutRefused, export
from bot.settings import Settings


def _settings(tmp_path: Path) -> Settings:
    return Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'desk.db'}", port=0)


async def _export(tmp_path: Path, out: str) -> int:
    settings = _settings(tmp_path)
    return await export(settings, settings.desk_config(), out=out, format="jsonl",
                        since=None, include_sensitive=False)


@pytest.fixture
async def desk(tmp_path: Path) -> Path:
    from bot.runtime import build

    settings = _settings(tmp_path)
    runtime = await build(settings, settings.desk_config())  # a migrated, empty desk
    await runtime.close()
    return tmp_path


async def test_a_fifo_is_written_into_and_stays_a_fifo(desk: Path) -> None:
    fifo = desk / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    await _export(desk, str(fifo))
    reader.join(10)
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert got and got[0].startswith(b"{")  # the export's header line came through
    assert not [name for name in os.listdir(desk) if name.endswith(".partial")]


async def test_a_symbolic_link_writes_its_target_and_stays_a_link(desk: Path) -> None:
    (desk / "real.jsonl").write_text("old")
    (desk / "link").symlink_to("real.jsonl")
    await _export(desk, str(desk / "link"))
    assert (desk / "link").is_symlink()
    assert (desk / "real.jsonl").read_text().startswith("{")


@pytest.mark.skipif(not os.path.exists("/dev/full"),
                    reason="needs /dev/full, Linux's always-full device")
async def test_a_full_device_fails_the_export_and_stays_a_device(desk: Path) -> None:
    with pytest.raises(CannotWrite) as refused:
        await _export(desk, "/dev/full")
    assert "No space left on device" in str(refused.value)
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


@pytest.mark.parametrize(("out", "said"), [
    ("", "export: --out: the path is empty; name a file"),
    (".", "export: --out .: cannot write it (a directory)"),
    ("nowhere/", "export: --out nowhere/: no such directory"),
])
async def test_a_path_that_cannot_be_a_file_is_refused_by_name(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, out: str, said: str) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(OutRefused) as refused:
        await _export(tmp_path, out)
    assert str(refused.value).startswith(said)
    assert not (tmp_path / "desk.db").exists()  # refused before the database
    assert not (tmp_path / "nowhere").exists()
