"""A long hostile fuzz through a real server: about 20,000 requests of every family the fuzz suite draws.

    nice -n 10 python bench/bench_fuzz.py [--requests 20000] [--seed 11]

Starts a server on a fresh data directory, with a victim instance (three images, only ever read) and a
playground instance (the writes), and sends the requests of tests/acceptance/hostile.py one after another,
the same number of each family, drawn by hypothesis from the seed. Counts the answers by family, status and
code, and lists every answer that is neither a success nor a documented error. Afterwards: does the server
answer, is its log free of tracebacks, are the victim's images unchanged. Prints a table and writes
bench/out/bench_fuzz.json, with the server's CPU time per request.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, seed, settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.acceptance import hostile
from tests.acceptance.conftest import create_instance
from tests.acceptance.hostile import FAMILIES, Hostile, Target
from tests.acceptance.server import ServerProcess

from bench.drill import cpu_seconds, write_result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    each = args.requests // len(FAMILIES)

    answers: Counter[tuple[str, int, str]] = Counter()
    wrong: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        server = ServerProcess(Path(tmp) / "data").start()
        try:
            victim, stored = hostile.fill_victim(server)
            target = Target(server.endpoint, victim, create_instance(server.data_dir))
            assert server.process is not None
            cpu_before, started = cpu_seconds(server.process.pid), time.monotonic()
            for family in FAMILIES:
                drive(target, family, each, args.seed, answers, wrong)
                print(f"{family}: {each} sent, {len(wrong)} wrong answers so far", flush=True)
            seconds, cpu = time.monotonic() - started, cpu_seconds(server.process.pid) - cpu_before
            changes = hostile.victim_changes(server, victim, stored)
            log = server.log()
        finally:
            server.stop()

    sent = sum(answers.values())
    result = {
        "requests": sent,
        "seed": args.seed,
        "seconds": round(seconds, 1),
        "server_cpu_ms_per_request": round(1000 * cpu / sent, 2),
        "undocumented": len(wrong),
        "tracebacks_in_log": log.count("Traceback"),
        "victim_changed": changes,
        "answers": [
            {"family": f, "status": s, "code": c, "count": n} for (f, s, c), n in sorted(answers.items())
        ],
        "wrong": wrong[:200],
    }
    path = write_result("bench_fuzz", result)
    print(f"{sent} hostile requests in {seconds:.0f} s (seed {args.seed}); server CPU "
          f"{result['server_cpu_ms_per_request']} ms a request")  # fmt: skip
    print(f"{'family':14} {'status':>6}  code")
    for (family, status, code), count in sorted(answers.items()):
        print(f"{family:14} {status:>6}  {code or '-':32} {count:>6}")
    print(f"undocumented answers: {len(wrong)}; tracebacks in the log: {result['tracebacks_in_log']}; "
          f"victim images changed: {len(changes)}")  # fmt: skip
    for item in wrong[:20]:
        print(f"  {item['family']}: {item['answer']}\n    {item['request']}")
    print(f"wrote {path}")
    return 0 if not (wrong or changes or result["tracebacks_in_log"]) else 1


def drive(
    target: Target, family: str, count: int, from_seed: int, answers: Counter, wrong: list[dict]
) -> None:
    """Send `count` requests of a family, counting the answers and keeping the wrong ones."""

    @seed(from_seed)
    @settings(max_examples=count, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(hostile.hostile_requests(target, [family]))
    def one(request: Hostile) -> None:
        try:
            status, content_type, body = hostile.send(target.endpoint, request)
        except OSError as error:
            answers[(family, 0, "no answer")] += 1
            wrong.append({"family": family, "answer": f"no answer: {error}", "request": shown(request)})
            return
        code = re.search(rb'"Code":\s*"([^"]*)"|<Code>([^<]*)</Code>', body)
        answers[(family, status, (code.group(1) or code.group(2)).decode() if code else "")] += 1
        if problem := hostile.verdict(request, status, content_type, body):
            wrong.append({"family": family, "answer": problem, "request": shown(request)})

    one()


def shown(request: Hostile) -> str:
    return f"{request.method} {request.target[:200]} {request.body[:200]!r}"


if __name__ == "__main__":
    raise SystemExit(main())
