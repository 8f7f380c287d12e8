"""Lookalike: self-hosted image search, wire-compatible with Alibaba Cloud Image Search."""

__version__ = "0.1.0"
