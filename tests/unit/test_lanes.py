"""The event loop's answer lane (``core.lanes``): callbacks in it run before the rest;
a socket is looked at between the rest, not after a whole pass of them; a task leaves
the lane once it has answered; everything else runs as on asyncio's own loop."""

from __future__ import annotations

import asyncio
import socket
import time

from core.lanes import (
    ANSWER_LANE,
    LanesLoop,
    answer_lane,
    leave_answer_lane,
)


def run(main: object) -> None:
    with asyncio.Runner(loop_factory=LanesLoop) as runner:
        runner.run(main)  # type: ignore[arg-type]


def test_callbacks_in_the_answer_lane_run_before_the_others() -> None:
    ran: list[str] = []

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for n in range(5):
            loop.call_soon(ran.append, f"other {n}")
        loop.call_soon(ran.append, "answer", context=answer_lane())
        loop.call_soon(ran.append, "other 5", context=answer_lane(False))
        await asyncio.sleep(0.01)

    run(main())
    assert ran == ["answer"] + [f"other {n}" for n in range(6)]


def test_a_socket_in_the_answer_lane_is_read_between_the_others() -> None:
    """A pass of 50 callbacks of 1 ms: the frame waiting on the socket is read within
    about ``POLL_SECONDS``, not after the 50 ms of the whole pass."""
    order: list[str] = []

    async def main() -> None:
        loop = asyncio.get_running_loop()
        ours, theirs = socket.socketpair()
        ours.setblocking(False)

        def read() -> None:
            order.append("read")
            ours.recv(100)
            loop.remove_reader(ours)

        def busy(n: int) -> None:
            until = time.perf_counter() + 0.001
            while time.perf_counter() < until:
                pass
            order.append(f"busy {n}")

        try:
            answer_lane().run(loop.add_reader, ours, read)
            await asyncio.sleep(0.01)
            for n in range(50):
                loop.call_soon(busy, n)
            theirs.send(b"frame")  # arrives as the pass begins
            await asyncio.sleep(0.1)
        finally:
            ours.close()
            theirs.close()

    run(main())
    assert len(order) == 51
    assert order.index("read") <= 3, order[:6]


def test_a_task_leaves_the_answer_lane_once_it_has_answered() -> None:
    seen: list[bool] = []

    async def interaction() -> None:
        seen.append(ANSWER_LANE.get())
        leave_answer_lane()  # answered
        await asyncio.sleep(0)
        seen.append(ANSWER_LANE.get())

    async def main() -> None:
        await asyncio.create_task(interaction(), context=answer_lane())
        seen.append(ANSWER_LANE.get())  # the task's context was its own

    run(main())
    assert seen == [True, False, False]


def test_a_program_runs_on_it_as_on_asyncios_own_loop() -> None:
    async def main() -> list[int]:
        done: list[int] = []

        async def work(n: int) -> None:
            await asyncio.sleep(0.001 * (5 - n))
            done.append(n)

        server = await asyncio.start_server(
            lambda r, w: (w.write(b"pong"), w.close()), "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        assert await reader.read() == b"pong"
        writer.close()
        server.close()
        await asyncio.gather(*(work(n) for n in range(5)))
        await asyncio.to_thread(time.sleep, 0.001)
        return done

    with asyncio.Runner(loop_factory=LanesLoop) as runner:
        assert runner.run(main()) == [4, 3, 2, 1, 0]
        assert isinstance(runner.get_loop(), LanesLoop)
