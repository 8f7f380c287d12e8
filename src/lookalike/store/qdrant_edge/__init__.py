"""The embedded engine, Qdrant Edge inside this process, in rooms:

- `store`: the `Store` protocol on one shard per collection (reads, writes, the collections);
- `collection`: an open collection, and the order in which its locks are taken;
- `durability`: the group commit that makes an acknowledged write survive a crash of the machine;
- `indexer` and `optimize`: index builds in a child process on a copy, swapped in when done;
- `filters`: the filter tree compiled to Qdrant's;
- `layout`: the data directory, the shard's configuration, and what a restart recovers.
"""

from lookalike.store.qdrant_edge.layout import DataDirectoryLocked
from lookalike.store.qdrant_edge.store import QdrantEdgeStore

__all__ = ["DataDirectoryLocked", "QdrantEdgeStore"]
