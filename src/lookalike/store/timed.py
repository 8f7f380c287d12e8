"""A store whose every call is timed, as the `store` stage of `lookalike.metrics`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lookalike.metrics import stage
from lookalike.store.base import Store


class TimedStore:
    """Wraps any engine: each method call is one observation of the `store` stage."""

    def __init__(self, store: Store):
        self._store = store
        self.capabilities = store.capabilities

    @property
    def engine(self) -> Store:
        return self._store

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._store, name)
        if not callable(attribute):
            return attribute

        def timed(*args: Any, **kwargs: Any) -> Any:
            with stage("store"):
                return attribute(*args, **kwargs)

        return timed


def timed(store: Store) -> Store:
    wrapped: Callable[[Store], Store] = TimedStore
    return wrapped(store)
