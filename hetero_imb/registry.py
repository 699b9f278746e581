"""One registry per kind of component (datasets, models, losses, samplers).

The CLI, the comparison runner and the README's component table read their choices
from these registries, so a component registered once appears everywhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class UnknownComponentError(ValueError):
    """Raised when a name is not registered; the message lists the valid choices."""

    def __init__(self, kind: str, name: str, choices: list[str], parameter: str | None = None):
        self.kind = kind
        self.name = name
        self.choices = choices
        param = parameter or kind
        super().__init__(
            f"unknown {kind} {name!r} for '{param}'; expected one of: {', '.join(choices)}"
        )


class Registry(Generic[T]):
    """A name → component mapping with a decorator to register entries.

    Args:
        kind: What the registry holds ("dataset", "model", ...), used in error messages.

    Example:
        >>> LOSSES = Registry("loss")
        >>> @LOSSES.register("ce", summary="plain cross-entropy")
        ... def make_ce(**kw): ...
        >>> LOSSES.names()
        ['ce']
    """

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, T] = {}
        self._summaries: dict[str, str] = {}

    def register(
        self, name: str, obj: T | None = None, *, summary: str = "", overwrite: bool = False
    ) -> Any:
        """Register ``obj`` under ``name``; without ``obj``, return a decorator.

        Args:
            name: The public name (as typed on the command line).
            obj: The component (a class or factory). If omitted, a decorator is returned.
            summary: One line for ``--help`` and the README table (defaults to the
                component's own ``summary`` string attribute, else the first line of
                its docstring).
            overwrite: Allow replacing an existing entry (otherwise a ``ValueError``).
        """
        if not isinstance(name, str) or not name:
            raise ValueError(f"{self.kind} name must be a non-empty string, got {name!r}")

        def decorator(component: T) -> T:
            if name in self._entries and not overwrite:
                raise ValueError(
                    f"{self.kind} {name!r} is already registered; pass overwrite=True to replace it"
                )
            self._entries[name] = component
            own = getattr(component, "summary", None)
            doc = (getattr(component, "__doc__", None) or "").strip().splitlines()
            self._summaries[name] = (
                summary or (own if isinstance(own, str) and own else "")
                or (doc[0].strip() if doc else "")
            )
            return component

        if obj is not None:
            return decorator(obj)
        return decorator

    def unregister(self, name: str) -> T:
        """Remove ``name`` and return its component (e.g. to undo a temporary entry)."""
        component = self.get(name)
        del self._entries[name]
        del self._summaries[name]
        return component

    def get(self, name: str, parameter: str | None = None) -> T:
        """Return the component registered as ``name``.

        Raises:
            UnknownComponentError: ``name`` is not registered (message lists the choices).
        """
        try:
            return self._entries[name]
        except (KeyError, TypeError):
            raise UnknownComponentError(self.kind, str(name), self.names(), parameter) from None

    def summary(self, name: str) -> str:
        """The one-line description of ``name``."""
        self.get(name)
        return self._summaries[name]

    def names(self) -> list[str]:
        """Registered names, in registration order."""
        return list(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {self.names()})"


def import_plugins(modules: list[str] | None) -> None:
    """Import each module of ``modules``: user modules whose import registers components
    (``--plugin MODULE``, ``RunConfig.plugins``).

    Raises:
        ValueError: a module cannot be imported (the message names it).

    Example:
        >>> import_plugins(["json"])
    """
    import importlib

    for module in modules or []:
        try:
            importlib.import_module(module)
        except ImportError as err:
            raise ValueError(f"plugin module {module!r} cannot be imported: {err}") from err
