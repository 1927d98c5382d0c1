"""Codec registry: one canonical name per architecture, plus literature aliases."""
from __future__ import annotations

from typing import Callable

from ..errors import ModelError
from .base import LearnedCodec

_ARCHITECTURES: dict[str, type[LearnedCodec]] = {}
_ALIASES: dict[str, str] = {}


def register(name: str, *aliases: str) -> Callable[[type[LearnedCodec]], type[LearnedCodec]]:
    def wrap(cls: type[LearnedCodec]) -> type[LearnedCodec]:
        _ARCHITECTURES[name] = cls
        cls.name = name
        for alias in aliases:
            _ALIASES[alias] = name
        return cls
    return wrap


def canonical_name(name: str) -> str:
    key = name.lower()
    if key in _ARCHITECTURES:
        return key
    if key in _ALIASES:
        return _ALIASES[key]
    raise ModelError(f"unknown architecture '{name}' (known: {', '.join(sorted(architectures()))})")


def architectures() -> dict[str, list[str]]:
    """Canonical name → its aliases."""
    return {n: sorted(a for a, c in _ALIASES.items() if c == n) for n in _ARCHITECTURES}


def architecture_class(name: str) -> type[LearnedCodec]:
    """The class registered under ``name`` (or an alias)."""
    return _ARCHITECTURES[canonical_name(name)]


def create(name: str, **config) -> LearnedCodec:
    """Instantiate an (untrained) codec by name or alias with the given configuration."""
    return _ARCHITECTURES[canonical_name(name)](**config)
