"""kill -9 rounds during adds, deletes and imports, counting the acknowledged writes lost.

    nice -n 10 python bench/bench_kill.py [--rounds 30] [--writers 4] [--lines 300] [--seed 11]

One data directory for all rounds. In each, the server starts; writer clients add and delete images of their
own (base64 and file streams) while an import job (IncreaseInstance, `--lines` lines from a bucket folder)
runs; once the writers have had a number of writes acknowledged drawn at random, the server is killed with
SIGKILL. It is then started again and every image written in the round is looked up (CheckImageExists):
an image whose last write was acknowledged, with no write sent after it, must be as that write left it (an
acknowledged add there with its attributes, an acknowledged delete gone). The import the kill cut short is
taken over by the restarted server and goes on; each import must end with exact counts (every line applied
once). At the end every image of every round is looked up once more. Prints each round and the totals;
writes bench/out/bench_kill.json.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.acceptance.conftest import create_instance
from tests.acceptance.jobs import add_line, increase, increments, write_folder
from tests.acceptance.sdk import add, add_streamed, delete, make_client
from tests.acceptance.server import ServerProcess
from tests.acceptance.test_actions import check
from tests.conftest import PHOTO_FILES, jpeg, photo_image

from bench.drill import write_result

UNSURE = object()  # a write was sent but not acknowledged: what it left is not known


class Writer:
    """Adds and deletes images of its own, remembering what each acknowledged write left."""

    def __init__(self, number: int, photos: dict[str, bytes], seed: int):
        self.number, self.photos, self.random = number, photos, random.Random(seed * 100 + number)
        self.state: dict[str, object] = {}  # ProductId -> int_attr if there, None if deleted, or UNSURE
        self.made = 0

    def run(
        self, endpoint: str, instance: str, acknowledged: threading.Semaphore, stop: threading.Event
    ) -> None:
        client = make_client(endpoint, "acs3" if self.number % 2 else "rpc-v2")
        client._open_platform_endpoint = endpoint
        client._read_timeout = 120_000
        while not stop.is_set():
            present = sorted(p for p, value in self.state.items() if isinstance(value, int))
            if present and self.random.random() < 0.3:
                product, value = self.random.choice(present), None
            else:
                self.made += 1
                product, value = f"w{self.number}-{self.made}", self.random.randrange(10**6)
            picture, streamed = self.photos[self.random.choice(list(self.photos))], self.random.random() < 0.2
            self.state[product] = UNSURE
            try:
                if value is None:
                    delete(client, instance, product_id=product)
                else:
                    (add_streamed if streamed else add)(
                        client, instance, product, "a.jpg", picture, int_attr=value
                    )
            except Exception:  # the server is gone (or answered oddly): this write's outcome stays unknown
                return
            self.state[product] = value
            acknowledged.release()

    def lost(self, endpoint: str, instance: str) -> list[str]:
        """The acknowledged writes whose effect is not there."""
        client, lost = make_client(endpoint), []
        for product, value in self.state.items():
            if value is UNSURE:
                continue
            body = check(client, instance, product, "a.jpg")
            found = body.auctions.int_attr if body.exists else None
            if found != value:
                lost.append(
                    f"{product}: acknowledged {'a delete' if value is None else value}, found {found}"
                )
        return lost


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--lines", type=int, default=300)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    draw = random.Random(args.seed)
    photos = {name: jpeg(photo_image(name)) for name in PHOTO_FILES}
    rounds, imports, lost_total = [], [], 0

    with tempfile.TemporaryDirectory() as tmp:
        bucket = Path(tmp) / "bucket"
        bucket.mkdir()
        server = ServerProcess(Path(tmp) / "data", extra_args=("--bucket", f"drill={bucket}"))
        importing = create_instance(server.data_dir)
        all_writers: list[tuple[str, Writer]] = []
        job: str | None = None
        for number in range(args.rounds):
            server.start()
            instance = create_instance(server.data_dir)
            client = make_client(server.endpoint)
            if job is None or increments(client, importing, id=int(job))[0].status != "PROCESSING":
                folder = f"round{number}"
                lines = [add_line(f"i{number}-{n}", f"{name}.jpg") for n, name in
                         zip(range(args.lines), [*PHOTO_FILES] * args.lines, strict=False)]  # fmt: skip
                write_folder(bucket / folder, photos, *lines)
                job = increase(client, importing, "drill", f"/{folder}")
                imports.append({"job": job, "round": number, "lines": args.lines})
            writers = [Writer(w, photos, args.seed * 1000 + number) for w in range(args.writers)]
            acknowledged, stop = threading.Semaphore(0), threading.Event()
            threads = [threading.Thread(target=w.run, args=(server.endpoint, instance, acknowledged, stop))
                       for w in writers]  # fmt: skip
            for thread in threads:
                thread.start()
            kill_after = draw.randrange(4, 40)
            for _ in range(kill_after):  # wait for the writes, not for a time (the bound only ends a hang)
                if not acknowledged.acquire(timeout=600):
                    raise RuntimeError(f"round {number}: the writers stopped before {kill_after} writes")
            server.kill()
            stop.set()
            for thread in threads:
                thread.join()
            server.start()
            lost = [f"round {number}: {text}" for w in writers for text in w.lost(server.endpoint, instance)]
            lost_total += len(lost)
            sure = sum(1 for w in writers for value in w.state.values() if value is not UNSURE)
            rounds.append({"round": number, "killed_after_acknowledged": kill_after, "checked": sure,
                           "lost": lost})  # fmt: skip
            print(f"round {number}: killed after {kill_after} acknowledged writes; {sure} images checked, "
                  f"{len(lost)} lost", flush=True)  # fmt: skip
            all_writers += [(instance, w) for w in writers]
            server.stop()

        server.start()
        try:
            final_lost = [text for instance, w in all_writers for text in w.lost(server.endpoint, instance)]
            client = make_client(server.endpoint)
            for item in imports:
                item.update(import_outcome(client, importing, item["job"], item["lines"]))
        finally:
            server.stop()

    result = {"rounds": rounds, "lost_acknowledged_writes": lost_total, "lost_at_the_end": final_lost,
              "imports": imports}  # fmt: skip
    path = write_result("bench_kill", result)
    checked = sum(r["checked"] for r in rounds)
    print(f"{args.rounds} kill -9 rounds: {checked} acknowledged writes checked after their round's kill, "
          f"{lost_total} lost; at the end {len(final_lost)} lost")  # fmt: skip
    exact = [i for i in imports if i["exact"]]
    print(f"imports: {len(imports)}, {len(exact)} ended with exact counts")
    for item in imports:
        if not item["exact"]:
            print(f"  job {item['job']}: {item}")
    print(f"wrote {path}")
    return 0 if not lost_total and not final_lost and len(exact) == len(imports) else 1


def import_outcome(client, instance: str, job: str, lines: int) -> dict:
    """How an import ended, once it has (waiting for the job, not for a time)."""
    deadline = time.monotonic() + 3600
    while (item := increments(client, instance, id=int(job))[0]).status == "PROCESSING":
        if time.monotonic() > deadline:
            break
        time.sleep(0.5)
    exact = (
        item.status == "SUCCESS" and f"success: {lines} lines: {lines} added, 0 deleted, 0 failed" in item.msg
    )
    return {"status": item.status, "msg": item.msg, "exact": exact}


if __name__ == "__main__":
    raise SystemExit(main())
