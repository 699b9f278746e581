"""``lp``: label propagation from the training labels over the target type's meta-path graphs.

No learning: the one-hot **training** labels are spread over the operator ``S`` of
:func:`~hetero_imb.models.propagation.target_operator` (the sum of the target type's
``T-X-T`` meta-path graphs, hubs down-weighted, no self loops, normalised; on a
homogeneous graph the relation itself) with PyG's ``LabelPropagation``,
``F <- alpha S F + (1 - alpha) Y_train``, optionally followed by class-mass
normalisation, and rows scaled to probabilities. Validation and test labels are
never propagated. A setting left at ``none`` (``path_weights``, ``alpha``,
``class_mass``) is chosen on the validation nodes' macro-F1 among
:func:`weight_candidates` × :data:`ALPHAS` × on/off (validation labels are used for
that choice only; ties go to the first in that order). It is deterministic: seeds change nothing (unless a
meta-path graph is so large that it is sampled, ``max_walks``).

On featureless graphs this carries most of the signal the graph has (Freebase and
AMiner at HeCo's split, docs/benchmarks_hin.md). The fitted model keeps the training
labels by node id and the chosen settings; ``model.pt`` stores it and a reload
propagates again on the graph it is given (new target nodes with edges are scored).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from typing import Any

from torch import Tensor
from torch_geometric.data import HeteroData

from ..params import ParamError, ParamSpec
from .base import COMMON_PARAMS, MODELS, FitContext, FitOutput, ModelSpec, unused_params
from .propagation import (
    DEFAULT_MAX_WALKS,
    TargetOperator,
    TrainingLabels,
    class_mass,
    propagate_edges,
    target_operator,
    to_proba,
    validation_macro_f1,
)

log = logging.getLogger(__name__)

#: The values of ``alpha`` tried on validation when it is left at ``none``.
ALPHAS = (0.5, 0.8, 0.9, 0.95, 0.99)

#: Operator settings shared by ``lp`` and the ``cs`` smoother.
OPERATOR_PARAMS: dict[str, ParamSpec] = {
    "path_weights": ParamSpec(
        "floats", None, "weight of each meta-path graph of the target type, in edge-type order "
        "(none: equal); scaled to sum 1", low=0.0),
    "max_walks": ParamSpec("int", DEFAULT_MAX_WALKS, "node pairs an exact T-X-T product may "
                           "walk; above it the meta-path graph is sampled (max_neighbors)", low=1),
    "max_neighbors": ParamSpec("int", 64, "neighbours per node kept when a meta-path graph is "
                               "sampled", low=1),
}

LP_PARAMS: dict[str, ParamSpec] = {
    "alpha": ParamSpec("float", None, "weight of the propagated part per step (none: chosen on "
                       "validation among 0.5, 0.8, 0.9, 0.95, 0.99)", low=0.0, high=1.0,
                       low_open=True, high_open=True),
    "steps": ParamSpec("int", 50, "propagation steps", low=1),
    "class_mass": ParamSpec("bool", None, "class-mass normalisation: each class's propagated "
                            "mass scaled to its training share (none: chosen on validation)"),
    **OPERATOR_PARAMS,
    "path_weights": dataclasses.replace(OPERATOR_PARAMS["path_weights"], help=(
        "weight of each meta-path graph of the target type, in edge-type order, scaled to sum "
        "1 (none: chosen on validation among equal weights and each path given 0.5, 0.75 or "
        "0.9 of the total)")),
}

#: The shares one emphasised path gets among the path weights tried on validation.
EMPHASES = (0.5, 0.75, 0.9)


def weight_candidates(num_paths: int) -> list[list[float]]:
    """Path weights tried on validation: equal, then each path given each share of
    :data:`EMPHASES` with the rest split equally (equal alone for one path).

    Example:
        >>> weight_candidates(2)
        [[0.5, 0.5], [0.75, 0.25], [0.9, 0.1], [0.25, 0.75], [0.1, 0.9]]
    """
    equal = [1.0 / num_paths] * num_paths
    out = [equal]
    for p in range(num_paths if num_paths > 1 else 0):
        for share in EMPHASES:
            w = [round((1.0 - share) / (num_paths - 1), 6)] * num_paths
            w[p] = share
            if all(abs(a - b) > 1e-9 for a, b in zip(w, equal, strict=True)) and w not in out:
                out.append(w)
    return out


def operator_weights(given: list[float] | None, names: list[str], owner: str) -> list[float] | None:
    """``path_weights`` checked against the operator's paths and scaled to sum 1.

    Raises:
        ParamError: not one weight per path, or all zero (a usage error: exit 2 on the CLI).
    """
    if given is None:
        return None
    if len(given) != len(names) or sum(given) <= 0:
        raise ParamError(f"{owner}: path_weights must be {len(names)} non-negative weights, not all "
                         f"0, one per meta-path graph ({', '.join(names)}), got {list(given)}")
    return [w / sum(given) for w in given]


class LabelPropagator:
    """Label propagation fitted on a graph: settings, chosen values and training labels.

    Args:
        alpha, steps, class_mass, path_weights, max_walks, max_neighbors: See
            :data:`LP_PARAMS`.
        seed: Seed of sampled meta-path graphs (only used above ``max_walks``).
    """

    def __init__(self, *, alpha: float | None = None, steps: int = 50,
                 class_mass: bool | None = None, path_weights: list[float] | None = None,
                 max_walks: int = DEFAULT_MAX_WALKS, max_neighbors: int = 64, seed: int = 0):
        self.alpha, self.steps, self.class_mass = alpha, steps, class_mass
        self.path_weights, self.max_walks, self.max_neighbors = path_weights, max_walks, max_neighbors
        self.seed = seed
        self.labels: TrainingLabels | None = None
        self.chosen: dict[str, Any] = {}

    def _scores(self, edges, seeds: Tensor, alpha: float, masses: tuple[bool, ...]) -> list[Tensor]:
        """Probabilities for each class-mass option, from one propagation."""
        out = propagate_edges(edges, seeds, alpha=alpha, steps=self.steps)
        prior = self.labels.prior()  # type: ignore[union-attr]  (set by fit)
        return [to_proba(class_mass(out, prior) if mass else out, prior) for mass in masses]

    def operator(self, data: HeteroData) -> TargetOperator:
        """``data``'s target operator with this propagator's sampling settings."""
        return target_operator(data, max_walks=self.max_walks, max_neighbors=self.max_neighbors,
                               seed=self.seed)

    def fit(self, data: HeteroData, operator: TargetOperator | None = None) -> LabelPropagator:
        """Keep the training labels; choose the settings left at ``none`` on validation
        (``operator``: ``data``'s, when built already)."""
        self.labels = TrainingLabels.of(data)
        operator = self.operator(data) if operator is None else operator
        given = operator_weights(self.path_weights, operator.names, "model 'lp'")
        seeds = self.labels.seeds(data)
        masses = (True, False) if self.class_mass is None else (self.class_mass,)
        best = None
        for weights in weight_candidates(len(operator.names)) if given is None else [given]:
            edges = operator.edges(weights)
            for alpha in ALPHAS if self.alpha is None else (self.alpha,):
                for mass, proba in zip(masses, self._scores(edges, seeds, alpha, masses),
                                       strict=True):
                    score = validation_macro_f1(proba, data)
                    if best is None or score > best[0]:  # first best wins: deterministic
                        best = (score, weights, alpha, mass)
        self.chosen = {"weights": best[1], "alpha": best[2], "class_mass": best[3],
                       "paths": operator.names, "val_macro_f1": best[0]}
        log.info("lp: path weights %s, alpha %s, class mass %s (validation macro-F1 %.4f)",
                 *best[1:], best[0])
        return self

    def predict_graph(self, data: HeteroData, operator: TargetOperator | None = None) -> Tensor:
        """Class probabilities ``[N, C]`` of ``data``'s target nodes, propagated from the
        kept training labels (those whose ids ``data`` has; ``operator``: ``data``'s,
        when built already)."""
        if self.labels is None:
            raise RuntimeError("LabelPropagator: call fit(data) before predict_graph")
        c = self.chosen
        operator = self.operator(data) if operator is None else operator
        edges = operator.edges(c["weights"])
        return self._scores(edges, self.labels.seeds(data), c["alpha"], (c["class_mass"],))[0]

    def description(self) -> str:
        """What the model saw and chose, for the run's summary."""
        c = self.chosen
        paths = ", ".join(f"{name} {w:.2f}" for name, w in zip(c["paths"], c["weights"], strict=True))
        return (f"training labels only, propagated over {paths} ({self.steps} steps, "
                f"alpha {c['alpha']}, class mass {'on' if c['class_mass'] else 'off'})")


def _fit_lp(data: HeteroData, context: FitContext) -> FitOutput:
    """Fit hook: no training loop; propagation, with settings chosen on validation."""
    own = {k: v for k, v in context.settings.items() if k in LP_PARAMS}
    start = time.perf_counter()
    model = LabelPropagator(seed=context.config.seed, **own)
    operator = model.operator(data)  # built once: the meta-path products are the costly part
    proba = model.fit(data, operator).predict_graph(data, operator)
    return FitOutput(proba=proba, history=[], best_epoch=0, fit_seconds=time.perf_counter() - start,
                     epochs=model.steps, features=model.description(), model=model)


def _build_lp(data: HeteroData, *, seed: int = 0, **settings: Any) -> LabelPropagator:
    return LabelPropagator(seed=seed, **{k: v for k, v in settings.items() if k in LP_PARAMS})


MODELS.register("lp", ModelSpec(
    builder=_build_lp,
    params={**LP_PARAMS, **unused_params(COMMON_PARAMS, "lp")},
    summary="label propagation of the training labels over the target type's meta-path graphs "
            "(no learning)",
    fit=_fit_lp, losses=("ce",), samplers=("none",), augmenters=("none",), kind="propagation",
))
