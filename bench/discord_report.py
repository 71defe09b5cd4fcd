"""``bench/discord.py``'s report: the table of a run, and each bot's garbage collections
(``bench/gcwatch``)."""

from __future__ import annotations

IN_FLIGHT = 200  # deliveries in flight during the loaded rounds
WRITE_DELAY = 0.25  # seconds the fake Discord takes per channel write, loaded rounds

# p50 s, p99 s, cpu s and s waiting for a CPU, per interaction
Row = dict[str, tuple[float, float, float, float]]


def collections(path: str, since: float) -> str:
    """The garbage collections a bot recorded in ``path`` (``bench/gcwatch``) from
    ``since`` on (``time.time``): per generation how many, CPU ms in all, the longest."""
    per: dict[int, list[float]] = {0: [], 1: [], 2: []}
    small = "fewer than 100 small young ones"
    with open(path) as lines:
        for line in lines:
            cells = line.split("\t")
            if cells[0] == "small":
                small = f"{cells[1]} small young ones ({float(cells[2]):.0f} ms), from start-up"
            elif float(cells[0]) >= since:
                per[int(cells[1])].append(float(cells[3]))
    return "; ".join(
        f"generation {g}: {len(ms)}, {sum(ms):.0f} ms CPU, longest {max(ms, default=0):.1f}"
        for g, ms in per.items()) + f" (and {small})"


def report(rows: list[tuple[int, str, Row, float]], count: str, rounds: int,
           server: set[int], rest: set[int]) -> None:
    print(f"Discord interaction answers: {count} interactions per kind, level and round, "
          f"{rounds} rounds; ms from INTERACTION_CREATE sent to the bot's callback "
          "received. cpu: the bot's CPU ms per interaction, its work after the answers "
          "included (loaded: until the last answer); wait: ms its event loop was "
          "ready to run but waited for a CPU, per interaction.")
    print(f"{'at once':>7} {'kind':>8} | {'bare p50':>8} {'p99':>6} {'cpu':>5} {'wait':>5} | "
          f"{'ours p50':>8} {'p99':>6} {'cpu':>5} {'wait':>5} | {'loaded p50':>10} {'p99':>6} "
          f"{'wait':>5} | "
          f"{'ours/bare':>9} {'loaded/bare':>11} {'noise':>6} {'ok':>3} | {'writes':>6}")
    met = True
    for level, kind, r, writes in rows:
        bare, ours, loaded = r["bare all"], r["ours"], r["loaded"]
        noise = r["bare"][1] / r["bare2"][1]
        worst = max(ours[1], loaded[1]) / bare[1]
        ok = worst <= 1.3
        met = met and ok
        print(f"{level:>7} {kind:>8} | {bare[0] * 1e3:8.2f} {bare[1] * 1e3:6.2f} "
              f"{bare[2] * 1e3:5.2f} {bare[3] * 1e3:5.2f} | {ours[0] * 1e3:8.2f} "
              f"{ours[1] * 1e3:6.2f} {ours[2] * 1e3:5.2f} {ours[3] * 1e3:5.2f} | "
              f"{loaded[0] * 1e3:10.2f} {loaded[1] * 1e3:6.2f} {loaded[3] * 1e3:5.2f} | "
              f"{ours[1] / bare[1]:8.2f}x {loaded[1] / bare[1]:10.2f}x {noise:5.2f}x "
              f"{'yes' if ok else 'no':>3} | {writes:6.0f}")
    print("Target: ours p99 ≤ 1.3 × the bare bot's p99 at every level, with and without "
          f"deliveries in flight (loaded: ~{IN_FLIGHT} deliveries queued per round, "
          f"{WRITE_DELAY * 1e3:.0f} ms per channel write; writes: channel writes made "
          "during the loaded round). noise: the bare bot's p99, even rounds over odd — "
          f"the floor of this machine. Bots on CPU {sorted(server)}, load and fakes on "
          f"{sorted(rest)}. " + ("Target met." if met else "TARGET NOT MET."))
