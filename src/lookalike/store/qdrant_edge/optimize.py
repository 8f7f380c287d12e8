"""The child process of an index build: `python -m lookalike.store.qdrant_edge.optimize SHARD_DIR`.

It works on a copy of a collection (see `indexer`): payload indexes re-created in their current form, then
segments sealed, quantised, indexed and merged. Qdrant Edge holds the GIL for all of it, hence a process.
"""

from __future__ import annotations

import os
import sys

import qdrant_edge as qe

from lookalike.store.qdrant_edge.layout import create_indexes, stale_indexes


def optimize(path: str) -> None:
    os.nice(10)
    shard = qe.EdgeShard.load(path)
    create_indexes(shard, stale_indexes(shard))  # re-created on disk: about 3 minutes a million
    shard.optimize()
    shard.flush()
    shard.close()


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m lookalike.store.qdrant_edge.optimize SHARD_DIR", file=sys.stderr)
        return 2
    optimize(argv[0])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
