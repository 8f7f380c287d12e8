"""16 clients at once, each mixing every action of the official SDK, against one server.

    nice -n 10 python bench/bench_mixed.py [--clients 16] [--requests 16000] [--seed 11]

The clients share 4 instances (with no request limits) and each has products of its own, so that it knows
what it should find. Each draws its next action from all of them: AddImage (base64, and file stream),
UpdateImage, DeleteImage, SearchImageByPic, SearchImageByName, SearchImageByFilter, SearchImageByText,
CheckImageExists, CompareSimilarByImage, Detail, DumpMeta, DumpMetaList, IncreaseInstance (from a bucket
folder) and IncreaseList. A failure is any error but the ones a correct client can get in such a mix (a job
of that kind already running on the instance: 409; SearchImageByText with no text tower installed: 500
UnsupportedOperationType), and any answer that contradicts what the client did (its image not found, an
attribute not as it set it). At the end every client's images are looked up once more. Prints the count and
latency of each action and the failures; writes bench/out/bench_mixed.json with the server's CPU time.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from alibabacloud_imagesearch20201214 import models
from alibabacloud_tea_openapi.exceptions import AlibabaCloudException

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.acceptance.conftest import create_instance
from tests.acceptance.jobs import add_line, dump, increase, increments, write_folder
from tests.acceptance.sdk import add, add_streamed, delete, make_client, search_name, search_pic
from tests.acceptance.server import ServerProcess
from tests.acceptance.test_actions import by_filter, check, compare, update
from tests.conftest import PHOTO_FILES, jpeg, photo_image

from bench.drill import cpu_seconds, write_result

EXPECTED = {  # (action, code) a correct client can be answered in this mix
    ("DumpMeta", "Console.TaskAlreadyExist"),
    ("IncreaseInstance", "Console.IncrementStatusError"),
    ("SearchImageByText", "UnsupportedOperationType"),
}
INSTANCES = 4


class Client:
    """One of the drill's clients: an SDK client, its instance, and the images it stored there."""

    def __init__(self, number: int, endpoint: str, instance: str, photos: dict[str, bytes], seed: int):
        self.number, self.instance, self.photos = number, instance, photos
        self.sdk = make_client(endpoint, "acs3" if number % 2 else "rpc-v2")
        self.sdk._open_platform_endpoint = endpoint  # the file streams upload here
        self.sdk._read_timeout = 120_000  # ms: the SDK's 10 s is short on a busy machine
        self.random = random.Random(seed * 1000 + number)
        self.stored: dict[str, int] = {}  # ProductId -> its int_attr, as this client last set it
        self.gone: set[str] = set()  # deleted by this client
        self.made = 0

    def picture(self) -> bytes:
        return self.photos[self.random.choice(list(self.photos))]

    def some_stored(self) -> str | None:
        return self.random.choice(sorted(self.stored)) if self.stored else None

    def next_action(self) -> str:
        return self.random.choice(ACTIONS)

    # -- the actions (names as the API's, in snake case) ---------------------------------------------

    def add_image(self) -> None:
        self.made += 1
        product, value = f"c{self.number}-{self.made}", self.random.randrange(1000)
        if self.random.random() < 0.3:
            add_streamed(self.sdk, self.instance, product, "a.jpg", self.picture(), int_attr=value)
        else:
            add(self.sdk, self.instance, product, "a.jpg", self.picture(), int_attr=value)
        self.stored[product] = value

    def update_image(self) -> None:
        if product := self.some_stored():
            value = self.random.randrange(1000)
            update(self.sdk, self.instance, product, "a.jpg", int_attr=value)
            self.stored[product] = value

    def delete_image(self) -> None:
        if product := self.some_stored():
            delete(self.sdk, self.instance, product_id=product)
            del self.stored[product]
            self.gone.add(product)

    def search_image_by_pic(self) -> None:
        search_pic(self.sdk, self.instance, self.picture(), num=5)

    def search_image_by_name(self) -> None:
        product = self.some_stored()
        if product and not search_name(self.sdk, self.instance, product, "a.jpg").auctions:
            raise Contradiction(f"SearchImageByName of {product} found nothing, not even it")

    def search_image_by_filter(self) -> None:
        by_filter(self.sdk, self.instance, f"int_attr>={self.random.randrange(1000)}", num=10)

    def search_image_by_text(self) -> None:
        self.sdk.search_image_by_text(
            models.SearchImageByTextRequest(instance_name=self.instance, text="cup")
        )

    def check_image_exists(self) -> None:
        if product := self.some_stored():
            self.expect_stored(product)

    def compare_similar_by_image(self) -> None:
        compare(self.sdk, self.instance, self.picture(), self.picture())

    def detail(self) -> None:
        self.sdk.detail(models.DetailRequest(instance_name=self.instance))

    def dump_meta(self) -> None:
        dump(self.sdk, self.instance)

    def dump_meta_list(self) -> None:
        self.sdk.dump_meta_list(models.DumpMetaListRequest(instance_name=self.instance))

    def increase_instance(self) -> None:
        increase(self.sdk, self.instance, "drill", f"/batch{self.random.randrange(BATCHES)}")

    def increase_list(self) -> None:
        increments(self.sdk, self.instance)

    def expect_stored(self, product: str) -> None:
        """CheckImageExists finds the image with the int_attr this client last gave it."""
        body = check(self.sdk, self.instance, product, "a.jpg")
        found = body.auctions.int_attr if body.exists else None
        if found != self.stored[product]:
            raise Contradiction(f"{product}: int_attr {self.stored[product]} stored, {found} found")


ACTIONS = [
    name for name in vars(Client) if not name.startswith(("_", "some_", "expect_", "next_", "picture"))
]
ACTIONS += ["add_image"] * 3 + ["search_image_by_pic"] * 2  # what a shop does most
BATCHES = 4


class Contradiction(Exception):
    pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=16_000)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    photos = {name: jpeg(photo_image(name)) for name in PHOTO_FILES}

    latencies: dict[str, list[float]] = defaultdict(list)
    expected: Counter[tuple[str, str]] = Counter()
    failures: list[str] = []
    lock, left = threading.Lock(), [args.requests]

    def run(client: Client) -> None:
        while True:
            with lock:
                if left[0] <= 0:
                    return
                left[0] -= 1
            method = client.next_action()
            action = "".join(word.capitalize() for word in method.split("_"))  # the API's name
            started = time.perf_counter()
            try:
                getattr(client, method)()
            except AlibabaCloudException as error:
                key = (action, error.code)
                with lock:
                    if key in EXPECTED:
                        expected[key] += 1
                    else:
                        failures.append(f"client {client.number} {key[0]}: {error.code}: {error.message}")
                continue
            except Exception as error:  # a contradiction, or no answer at all
                with lock:
                    failures.append(f"client {client.number} {action}: {type(error).__name__}: {error}")
                continue
            with lock:
                latencies[action].append((time.perf_counter() - started) * 1000)

    with tempfile.TemporaryDirectory() as tmp:
        bucket = Path(tmp) / "bucket"
        for batch in range(BATCHES):
            write_folder(bucket / f"batch{batch}", photos, *(add_line(f"i{batch}-{n}", f"{name}.jpg")
                         for n, name in enumerate(PHOTO_FILES)))  # fmt: skip
        server = ServerProcess(Path(tmp) / "data", extra_args=("--bucket", f"drill={bucket}")).start()
        try:
            instances = [create_instance(server.data_dir) for _ in range(INSTANCES)]
            clients = [Client(n, server.endpoint, instances[n % INSTANCES], photos, args.seed)
                       for n in range(args.clients)]  # fmt: skip
            assert server.process is not None
            cpu_before, started = cpu_seconds(server.process.pid), time.monotonic()
            with ThreadPoolExecutor(args.clients) as pool:
                list(pool.map(run, clients))
            seconds, cpu = time.monotonic() - started, cpu_seconds(server.process.pid) - cpu_before
            for client in clients:  # every image as its client left it
                for product in client.stored:
                    try:
                        client.expect_stored(product)
                    except (Contradiction, AlibabaCloudException) as error:
                        failures.append(f"at the end, client {client.number}: {error}")
            log = server.log()
        finally:
            server.stop()

    sent = sum(len(values) for values in latencies.values()) + sum(expected.values()) + len(failures)
    rows = {
        action: {"count": len(values), "p50_ms": round(statistics.median(values), 1),
                 "p99_ms": round(statistics.quantiles(values, n=100)[98], 1) if len(values) > 1 else None}
        for action, values in sorted(latencies.items())
    }  # fmt: skip
    result = {
        "clients": args.clients,
        "requests": sent,
        "seconds": round(seconds, 1),
        "server_cpu_ms_per_request": round(1000 * cpu / sent, 2),
        "actions": rows,
        "expected_errors": {f"{action} {code}": n for (action, code), n in expected.items()},
        "failures": failures[:200],
        "tracebacks_in_log": log.count("Traceback"),
    }
    path = write_result("bench_mixed", result)
    print(f"{sent} requests of {args.clients} clients in {seconds:.0f} s; server CPU "
          f"{result['server_cpu_ms_per_request']} ms a request")  # fmt: skip
    print(f"{'action':24} {'count':>6} {'p50 ms':>8} {'p99 ms':>8}")
    for action, row in rows.items():
        print(f"{action:24} {row['count']:>6} {row['p50_ms']:>8} {row['p99_ms'] or '':>8}")
    print(f"expected refusals: {dict(result['expected_errors'])}")
    print(f"failures: {len(failures)}; tracebacks in the log: {result['tracebacks_in_log']}")
    for failure in failures[:20]:
        print("  " + failure)
    print(f"wrote {path}")
    return 0 if not failures and not result["tracebacks_in_log"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
