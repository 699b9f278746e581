"""One registry per kind of component (datasets, models, losses, samplers, ...).

The CLI, the comparison runner and the README's component table read their choices
from these registries, so a component registered once appears everywhere.

Every component declares its options the same way: a ``params`` attribute holding a
``dict[str, ParamSpec]`` (a class attribute of a loss, sampler or dataset loader; a
field of a model's ``ModelSpec``; none means no options). The registry gives them for
any kind and name (:meth:`Registry.params`) and validates them in one place
(:meth:`Registry.validate`), so generic code needs no per-kind branch.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Generic, TypeVar

from .params import ParamSpec, describe_params, parse_params, validate_params

T = TypeVar("T")


def check_spec(spec: Any, owner: str) -> dict[str, ParamSpec]:
    """``spec`` as a dict after checking it maps option names to :class:`ParamSpec`.

    Raises:
        TypeError: ``spec`` is not a mapping of names to ``ParamSpec``.
    """
    if not isinstance(spec, Mapping):
        raise TypeError(f"{owner}: params must be a dict of ParamSpec, got {type(spec).__name__}")
    for name, p in spec.items():
        if not isinstance(name, str) or not isinstance(p, ParamSpec):
            raise TypeError(
                f"{owner}: params must map names to ParamSpec, got {name!r}: {type(p).__name__}"
            )
    return dict(spec)


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
        >>> WIDGETS = Registry("widget")
        >>> @WIDGETS.register("knob", summary="a knob")
        ... class Knob:
        ...     params = {"turns": ParamSpec("int", 3, "how far it turns", low=1)}
        >>> WIDGETS.names()
        ['knob']
        >>> WIDGETS.validate("knob", {})
        {'turns': 3}
        >>> WIDGETS.validate("knob", {"turns": 0})
        Traceback (most recent call last):
        ...
        hetero_imb.params.ParamError: widget 'knob': turns must be an integer >= 1, got 0
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
            obj: The component (a class, factory or spec). Its ``params`` attribute, if
                any, must map option names to :class:`~hetero_imb.params.ParamSpec`.
                If omitted, a decorator is returned.
            summary: One line for ``--help`` and the README table (defaults to the
                component's own ``summary`` string attribute, else the first line of
                its docstring).
            overwrite: Allow replacing an existing entry (otherwise a ``ValueError``).

        Raises:
            ValueError: ``name`` is empty or already registered.
            TypeError: ``params`` is not a mapping of names to ``ParamSpec``.
        """
        if not isinstance(name, str) or not name:
            raise ValueError(f"{self.kind} name must be a non-empty string, got {name!r}")

        def decorator(component: T) -> T:
            if name in self._entries and not overwrite:
                raise ValueError(
                    f"{self.kind} {name!r} is already registered; pass overwrite=True to replace it"
                )
            check_spec(getattr(component, "params", None) or {}, self.owner(name))
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

    def owner(self, name: str) -> str:
        """How messages name the component: ``"<kind> '<name>'"``."""
        return f"{self.kind} {name!r}"

    def params(self, name: str) -> dict[str, ParamSpec]:
        """The options ``name`` declares (``{}`` when it takes none).

        Raises:
            UnknownComponentError: ``name`` is not registered.
        """
        return dict(getattr(self.get(name), "params", None) or {})

    def validate(
        self, name: str, options: Mapping[str, Any] | None = None, parameter: str | None = None
    ) -> dict[str, Any]:
        """``options`` checked against ``name``'s declaration, defaults filled in.

        Args:
            name: A registered name.
            options: ``{option: value}``; strings are converted as on the command line.
            parameter: The flag or key that named the component, for the unknown-name
                message (default: the kind).

        Returns:
            Every declared option with its value.

        Raises:
            UnknownComponentError: ``name`` is not registered.
            ParamError: an unknown option (the message lists the accepted ones, with a
                did-you-mean) or an invalid value (parameter, expected, given).
        """
        self.get(name, parameter)
        return validate_params(options or {}, self.params(name), owner=self.owner(name))

    def parse(self, name: str, pairs: Sequence[str], flag: str | None = None) -> dict[str, Any]:
        """Command-line ``option=value`` strings for ``name``, converted to typed values."""
        return parse_params(list(pairs), self.params(name), owner=self.owner(name), flag=flag)

    def describe(self, name: str, indent: str = "    ") -> str:
        """One line per option of ``name``: type, range, default and help."""
        return describe_params(self.params(name), indent=indent)

    def names(self) -> list[str]:
        """Registered names, in registration order."""
        return list(self._entries)

    def name_of(self, component: object) -> str | None:
        """The first name ``component`` is registered under, or ``None``."""
        return next((name for name, obj in self._entries.items() if obj is component), None)

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
        if not isinstance(module, str) or not module.strip():
            raise ValueError(f"plugin module must be an importable module name (e.g. "
                             f"my_package.components), got {module!r}")
        try:
            importlib.import_module(module)
        except ImportError as err:
            raise ValueError(f"plugin module {module!r} cannot be imported: {err}") from err
