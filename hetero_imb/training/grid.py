"""A comparison grid: one base run configuration × models × losses × samplers × seeds.

A grid file is a run-config YAML (the keys of :class:`~hetero_imb.training.config.RunConfig`)
with an extra ``grid`` section; ``hetero_imb.train`` ignores that section, so one
file serves a single run and a whole comparison::

    dataset: facebook
    imbalance: counts:3327,1410,460,256
    grid:
      models: [mlp, xgboost, gcn]
      losses: [ce, weighted, {name: focal, params: {gamma: 1.0}}]   # or "focal[gamma=1.0]"
      samplers: [none, oversample-neighbors]
      augmenters: [none, bat, graphens]   # optional; default: the run config's augmenter
      seeds: [0, 1, 2, 3, 4]
      cv: null          # or K: stratified K-fold folds instead of seeds
      skip:             # cells to leave out; "!" negates
        - {loss: "!ce", sampler: "!none"}

A base ``smoother`` other than ``none`` (e.g. ``smoother: cs``, Correct & Smooth on every
model of the grid) labels the model column and the run folders ``MODEL+SMOOTHER``
(``sehgnn+cs__ce__none__seed0``).

With an ``augmenters`` axis, a cell whose augmenter is not ``none`` is labelled
``SAMPLER+AUGMENTER`` in the sampler column and in its run folder name
(``gcn__ce__none+graphens__seed0``); ``none`` cells, and every cell of a grid without
the axis, keep the names they always had, so earlier folders resume.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from .config import RunConfig, check_keys, resolve

GRID_KEYS = ("models", "losses", "samplers", "augmenters", "seeds", "cv", "skip")


@dataclass(frozen=True)
class Component:
    """A component name with parameters, e.g. focal with ``{"gamma": 1.0}``."""

    name: str
    params: dict[str, Any] = field(default_factory=dict, hash=False)

    @property
    def label(self) -> str:
        """``focal`` or ``focal[gamma=1.0]``: unique per configuration, file-name safe."""
        if not self.params:
            return self.name
        inner = ",".join(f"{k}={_short(v)}" for k, v in sorted(self.params.items()))
        return f"{self.name}[{inner}]"


def _short(value: Any) -> str:
    if isinstance(value, dict):
        return "+".join(f"{k}:{v}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return "+".join(str(v) for v in value)
    return str(value)


def split_components(text: str) -> list[str]:
    """Split a comma-separated list of components, keeping the commas inside brackets.

    Example:
        >>> split_components("ce, balanced-softmax[tau=0.5], lp[path_weights=1,2]")
        ['ce', 'balanced-softmax[tau=0.5]', 'lp[path_weights=1,2]']
    """
    out, depth, start = [], 0, 0
    for i, char in enumerate(text):
        depth += {"[": 1, "]": -1}.get(char, 0)
        if char == "," and depth <= 0:
            out.append(text[start:i])
            start, depth = i + 1, 0
    out.append(text[start:])  # an unclosed bracket keeps the rest: parse_component says so
    return [item.strip() for item in out if item.strip()]


def _parse_label(entry: str, what: str) -> Component:
    """``"focal[gamma=1.0,alpha=balanced]"`` (a run folder's label) → :class:`Component`;
    values are read as YAML scalars, as in a grid file, and a piece without ``=``
    continues the previous value (``lp[path_weights=1,2]``)."""
    import yaml

    name, _, rest = entry.partition("[")
    if not name.strip() or not rest.endswith("]") or "[" in rest or "]" in rest[:-1]:
        raise ValueError(f"grid {what} entry {entry!r}: expected NAME or NAME[key=value,...]")
    pairs: list[list[str]] = []
    for piece in rest[:-1].split(","):
        if "=" in piece:
            pairs.append(list(piece.split("=", 1)))
        elif pairs:
            pairs[-1][1] += "," + piece
        else:
            raise ValueError(f"grid {what} entry {entry!r}: expected key=value inside the "
                             f"brackets, got {piece!r}")
    def scalar(text: str) -> Any:
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError:  # not a YAML scalar: the option's own parser judges it
            return text

    params = {k.strip(): scalar(v.strip()) for k, v in pairs}
    if len(params) != len(pairs) or not all(params):
        raise ValueError(f"grid {what} entry {entry!r}: each key once, none empty")
    return Component(name.strip(), params)


def parse_component(entry: Any, what: str) -> Component:
    """``"focal"``, ``"focal[gamma=1.0]"`` (the label a run folder carries) or
    ``{"name": "focal", "params": {...}}`` → :class:`Component`.

    Example:
        >>> parse_component("balanced-softmax[tau=0.75]", "loss").params
        {'tau': 0.75}
        >>> parse_component("balanced-softmax[tau=0.75]", "loss").label
        'balanced-softmax[tau=0.75]'
    """
    if isinstance(entry, str) and "[" in entry:
        return _parse_label(entry, what)
    if isinstance(entry, str) and entry:
        return Component(entry)
    if isinstance(entry, dict) and isinstance(entry.get("name"), str):
        extra = set(entry) - {"name", "params"}
        if extra:
            raise ValueError(f"grid {what} entry {entry!r} has unknown keys {sorted(extra)}; use name and params")
        params = entry.get("params") or {}
        if not isinstance(params, dict):
            raise ValueError(f"grid {what} entry {entry['name']!r}: params must be a mapping, got {params!r}")
        return Component(entry["name"], dict(params))
    raise ValueError(f"grid {what} entries must be names or {{name, params}} mappings, got {entry!r}")


@dataclass(frozen=True)
class RunSpec:
    """One cell of the grid: the run's config and its folder name."""

    config: RunConfig
    key: str
    fold: int | None = None
    model: str = ""
    loss: str = ""
    sampler: str = ""


@dataclass
class Grid:
    """A base configuration and the axes to vary."""

    base: RunConfig
    models: list[Component]
    losses: list[Component]
    samplers: list[Component]
    seeds: list[int]
    cv: int | None = None
    skip: list[dict[str, str]] = field(default_factory=list)
    augmenters: list[Component] | None = None

    @classmethod
    def from_dict(cls, values: dict[str, Any], **overrides: Any) -> Grid:
        """Build from a parsed grid file; ``overrides`` (not None) replace grid axes or
        base keys (``models``, ``losses``, ``samplers``, ``augmenters``, ``seeds``, ``cv``
        or any RunConfig key)."""
        values = dict(values)
        grid_values = dict(values.pop("grid", None) or {})
        unknown = sorted(set(grid_values) - set(GRID_KEYS))
        if unknown:
            raise ValueError(f"unknown grid key(s) {unknown}; accepted: {', '.join(GRID_KEYS)}")
        base_overrides = {}
        for key, value in overrides.items():
            if value is None:
                continue
            if key in GRID_KEYS:
                grid_values[key] = value
            else:
                base_overrides[key] = value
        check_keys(base_overrides, "overrides")
        base = resolve(values, **base_overrides)

        def axis(name: str, default: Sequence[Any]) -> list[Any]:
            items = grid_values.get(name, default)
            if isinstance(items, (str, int, dict)):
                items = [items]
            if not items:
                raise ValueError(f"grid '{name}' must list at least one entry")
            return list(items)

        cv = grid_values.get("cv")
        if cv is not None and (isinstance(cv, bool) or not isinstance(cv, int) or cv < 2):
            raise ValueError(f"grid 'cv' must be an integer >= 2 or null, got {cv!r}")
        seeds = axis("seeds", [base.seed])
        if not all(isinstance(s, int) and not isinstance(s, bool) for s in seeds):
            raise ValueError(f"grid 'seeds' must be integers, got {seeds!r}")
        if cv is not None and len(seeds) > 1:
            raise ValueError(f"grid 'cv' runs the {cv} folds of one seed, got seeds {seeds}; "
                             "give one seed (e.g. --seeds 0), or one grid per seed")
        grid = cls(
            base=base,
            models=[parse_component(m, "models") for m in axis("models", [base.model])],
            losses=[parse_component(x, "losses") for x in axis("losses", [base.loss])],
            samplers=[parse_component(x, "samplers") for x in axis("samplers", [base.sampler])],
            seeds=[seeds[0]] if cv is not None else seeds,
            cv=cv,
            skip=list(grid_values.get("skip") or []),
            augmenters=None if grid_values.get("augmenters") is None else
            [parse_component(x, "augmenters") for x in axis("augmenters", [])],
        )
        for name in ("models", "losses", "samplers", "augmenters", "seeds"):
            entries = getattr(grid, name) or []
            labels = [e if isinstance(e, int) else e.label for e in entries]
            twice = next((x for i, x in enumerate(labels) if x in labels[:i]), None)
            if twice is not None:  # one run listed twice would count twice in the summary
                raise ValueError(f"grid '{name}' lists {twice!r} twice; expected each entry "
                                 f"once, got {labels}")
        return grid

    def to_yaml(self) -> str:
        """The resolved grid as YAML (saved next to the summary)."""
        import yaml

        def comp(c: Component) -> Any:
            return {"name": c.name, "params": c.params} if c.params else c.name

        values = self.base.to_dict()
        values["grid"] = {
            "models": [comp(c) for c in self.models],
            "losses": [comp(c) for c in self.losses],
            "samplers": [comp(c) for c in self.samplers],
            "seeds": self.seeds,
            "cv": self.cv,
            "skip": self.skip,
        }
        if self.augmenters is not None:
            values["grid"]["augmenters"] = [comp(c) for c in self.augmenters]
        return yaml.safe_dump(values, sort_keys=False)

    def _skipped(self, model: str, loss: str, sampler: str, augmenter: str = "none") -> bool:
        """A rule such as ``{loss: "!ce", sampler: "!none"}`` skips every cell whose
        loss is not ``ce`` and whose sampler is not ``none`` (``!`` negates)."""
        cell = {"model": model, "loss": loss, "sampler": sampler, "augmenter": augmenter}

        def matches(key: str, value: str) -> bool:
            if key not in cell:
                raise ValueError(
                    f"grid 'skip' keys must be model, loss, sampler or augmenter, got {key!r}")
            if isinstance(value, str) and value.startswith("!"):
                return cell[key] != value[1:]
            return cell[key] == value

        return any(all(matches(k, v) for k, v in rule.items()) for rule in self.skip)

    def _cells(self) -> Iterator[tuple[Component, Component, Component, Component | None]]:
        augmenters: list[Component | None] = list(self.augmenters or [None])
        for model in self.models:
            for loss in self.losses:
                for sampler in self.samplers:
                    for aug in augmenters:
                        name = aug.name if aug is not None else self.base.augmenter
                        if not self._skipped(model.name, loss.name, sampler.name, name):
                            yield model, loss, sampler, aug

    def runs(self) -> Iterator[RunSpec]:
        """Every run of the grid, in a stable order."""
        for model, loss, sampler, aug in self._cells():
            repeats = range(self.cv) if self.cv else self.seeds
            extra: dict[str, Any] = {}
            sampler_label = sampler.label
            if aug is not None:
                extra = {"augmenter": aug.name,
                         "augmenter_params": {**self.base.augmenter_params, **aug.params}}
                if aug.name != "none":
                    sampler_label = f"{sampler.label}+{aug.label}"
            for r in repeats:
                seed = self.base.seed if self.cv else r
                split = f"kfold:{self.cv}:{r}" if self.cv else self.base.split
                config = self.base.replace(
                    model=model.name,
                    model_params={**self.base.model_params, **model.params},
                    loss=loss.name,
                    loss_params={**self.base.loss_params, **loss.params},
                    sampler=sampler.name,
                    sampler_params={**self.base.sampler_params, **sampler.params},
                    seed=seed,
                    split=split,
                    **extra,
                )
                tail = f"fold{r}" if self.cv else f"seed{seed}"
                # a smoother post-processes the model's output: its rows read MODEL+SMOOTHER
                model_label = model.label if config.smoother == "none" else \
                    f"{model.label}+{config.smoother}"
                key = f"{model_label}__{loss.label}__{sampler_label}__{tail}"
                yield RunSpec(
                    config=config, key=key, fold=r if self.cv else None,
                    model=model_label, loss=loss.label, sampler=sampler_label,
                )
