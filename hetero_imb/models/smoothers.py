"""Smoothers: post-processing of any model's class probabilities over the graph.

A smoother runs after the model is fitted, on the probabilities of every target node,
and before the metrics; ``--smoother NAME --smoother-param K=V`` (``RunConfig.smoother``,
``smoother_params``) picks one, with the same registry, option declaration and error
forms as losses, samplers and augmenters. The hooks, as scikit-learn's:

* ``fit(proba, data)``: once, on the run's graph: keep the **training** labels (by
  node id) and choose the settings left at ``none`` on the validation nodes'
  macro-F1 (validation labels are used for that choice only);
* ``transform(proba, data)``: the smoothed probabilities; reads only the kept
  training labels, so a saved run (``model.pt`` keeps the fitted smoother) gives the
  same numbers after a reload.

Registered: ``none`` and ``cs``, Correct & Smooth (Huang et al., ICLR 2021) with PyG's
:class:`~torch_geometric.nn.models.CorrectAndSmooth` over the target type's operator
(:func:`~hetero_imb.models.propagation.target_operator`): the training nodes'
residuals ``Y - Z`` are propagated to correct the predictions, then the training
labels (in place of the corrected rows of the training nodes) are propagated to smooth
them. Test and validation labels never enter either step.

A new smoother is one :class:`Smoother` subclass declaring ``params`` and implementing
``_fit`` / ``_transform``, registered with ``SMOOTHERS.register(name, cls)``.
"""

from __future__ import annotations

import itertools
import logging
from typing import Any, ClassVar

from torch import Tensor
from torch_geometric.data import HeteroData

from ..params import ParamSpec, validate_params
from ..registry import Registry
from .label_propagation import ALPHAS, OPERATOR_PARAMS, operator_weights
from .propagation import TrainingLabels, target_operator, to_proba, validation_macro_f1

__all__ = ["SMOOTHERS", "CorrectSmooth", "NoSmoother", "Smoother", "build_smoother"]

log = logging.getLogger(__name__)

SMOOTHERS: Registry[type[Smoother]] = Registry("smoother")


def build_smoother(name: str, **params: Any) -> Smoother:
    """The smoother registered as ``name`` with ``params`` (validated now).

    Raises:
        UnknownComponentError: ``name`` is not registered.
        ParamError: an unknown option or a bad value.

    Example:
        >>> build_smoother("cs", smoothing_alpha=0.8).params_["smoothing_alpha"]
        0.8
    """
    SMOOTHERS.validate(name, params, parameter="smoother")
    return SMOOTHERS.get(name, parameter="smoother")(**params)


class Smoother:
    """Base class (see the module docstring for the hooks).

    Args:
        **params: Options declared in ``params``; validated here.
    """

    params: ClassVar[dict[str, ParamSpec]] = {}

    def __init__(self, **params: Any):
        self.params_ = validate_params(params, self.params, owner=self.owner)
        self.labels: TrainingLabels | None = None

    @property
    def owner(self) -> str:
        """``"smoother '<name>'"`` for messages."""
        return f"smoother {SMOOTHERS.name_of(type(self)) or type(self).__name__!r}"

    def fit(self, proba: Tensor, data: HeteroData, *, seed: int = 0) -> Smoother:
        """Keep ``data``'s training labels; choose settings on its validation nodes.

        Args:
            proba: The model's probabilities ``[N, C]`` of every target node.
            data: The run's graph (with its train/val masks).
            seed: Seed of any random draw (sampled meta-path graphs).

        Returns:
            ``self``.
        """
        self.seed = int(seed)
        self.labels = TrainingLabels.of(data)
        self._fit(proba.detach().float().cpu(), data)
        return self

    def transform(self, proba: Tensor, data: HeteroData) -> Tensor:
        """Smoothed probabilities ``[N, C]`` (rows sum to 1)."""
        if self.labels is None:
            raise RuntimeError(f"{self.owner}: call fit(proba, data) before transform")
        return self._transform(proba.detach().float().cpu(), data)

    def _fit(self, proba: Tensor, data: HeteroData) -> None:
        """Default: nothing to choose."""

    def _transform(self, proba: Tensor, data: HeteroData) -> Tensor:
        raise NotImplementedError


class NoSmoother(Smoother):
    """No smoothing: the model's probabilities as they are."""

    def _transform(self, proba: Tensor, data: HeteroData) -> Tensor:
        return proba


_ALPHA = {"low": 0.0, "high": 1.0, "low_open": True, "high_open": True}


class CorrectSmooth(Smoother):
    """Correct & Smooth (PyG's ``CorrectAndSmooth``) over the target type's operator."""

    params: ClassVar[dict[str, ParamSpec]] = {
        "correction_alpha": ParamSpec("float", None, "alpha of the residual propagation (none: "
                                      "chosen on validation among 0.5, 0.8, 0.9, 0.95, 0.99)",
                                      **_ALPHA),
        "smoothing_alpha": ParamSpec("float", None, "alpha of the label smoothing (none: chosen "
                                     "on validation among 0.5, 0.8, 0.9, 0.95, 0.99)", **_ALPHA),
        "correction_steps": ParamSpec("int", 50, "residual propagation steps", low=0),
        "smoothing_steps": ParamSpec("int", 50, "label smoothing steps", low=0),
        "autoscale": ParamSpec("bool", True, "scale the propagated residual to the training "
                               "residual's size (else by 'scale')"),
        "scale": ParamSpec("float", 1.0, "residual scale when autoscale is off", low=0.0),
        **OPERATOR_PARAMS,
    }

    def _operator(self, data: HeteroData):
        p = self.params_
        return target_operator(data, max_walks=p["max_walks"], max_neighbors=p["max_neighbors"],
                               seed=self.seed)

    @staticmethod
    def _structure(data: HeteroData) -> list:
        """The tensors the operator is built from (relations and node counts)."""
        return [(et, data[et].edge_index) for et in data.edge_types] + \
            [(t, int(data[t].num_nodes)) for t in data.node_types]

    def _edges(self, data: HeteroData) -> tuple[Tensor, Tensor]:
        """The operator's ``(adj_t, edge_weight)`` at the chosen path weights. The one
        ``fit`` built is used once more, by the first ``transform`` of a graph with the
        very relation tensors it came from (a run transforms the graph it fitted on:
        building it again would repeat the meta-path products), then released."""
        built, self._built = getattr(self, "_built", None), None
        now = self._structure(data)
        same = built is not None and len(built[0]) == len(now) and all(
            a[0] == b[0] and (a[1] is b[1] if isinstance(a[1], Tensor) else a[1] == b[1])
            for a, b in zip(built[0], now, strict=True))
        return built[1] if same else self._operator(data).edges(self.weights)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_built", None)  # the fitted graph's operator: not saved with the run
        return state

    def _run(self, proba: Tensor, data: HeteroData, alphas: tuple[float, float],
             edges: tuple[Tensor, Tensor]) -> Tensor:
        """C&S with ``alphas`` over ``edges`` (the operator's ``(adj_t, edge_weight)``)."""
        from torch_geometric.nn.models import CorrectAndSmooth

        p = self.params_
        edge_index, edge_weight = edges
        pos, lab = self.labels.index(data)  # type: ignore[union-attr]  (set by fit)
        if pos.numel() == 0:
            return proba
        cs = CorrectAndSmooth(p["correction_steps"], alphas[0], p["smoothing_steps"], alphas[1],
                              autoscale=p["autoscale"], scale=p["scale"])
        out = cs.correct(proba.clone(), lab, pos, edge_index, edge_weight)
        out = cs.smooth(out, lab, pos, edge_index, edge_weight)
        return to_proba(out, self.labels.prior())  # type: ignore[union-attr]

    def _fit(self, proba: Tensor, data: HeteroData) -> None:
        p = self.params_
        operator = self._operator(data)
        self.weights = operator_weights(p["path_weights"], operator.names, self.owner)
        edges = operator.edges(self.weights)  # one sparse matrix for every alpha pair tried
        self._built = (self._structure(data), edges)  # and for transform on this graph
        grid = itertools.product(
            ALPHAS if p["correction_alpha"] is None else (p["correction_alpha"],),
            ALPHAS if p["smoothing_alpha"] is None else (p["smoothing_alpha"],))
        best = None
        for alphas in grid:
            score = validation_macro_f1(self._run(proba, data, alphas, edges), data)
            if best is None or score > best[0]:
                best = (score, alphas)
        self.alphas = best[1]
        log.info("cs: correction alpha %s, smoothing alpha %s (validation macro-F1 %.4f)",
                 *best[1], best[0])

    def _transform(self, proba: Tensor, data: HeteroData) -> Tensor:
        return self._run(proba, data, self.alphas, self._edges(data))


SMOOTHERS.register("none", NoSmoother, summary="the model's probabilities as they are")
SMOOTHERS.register("cs", CorrectSmooth, summary="Correct & Smooth (PyG): training-label residuals "
                   "and labels propagated over the target type's meta-path graphs")


def smoothed(proba: Tensor, data: HeteroData, smoother: Smoother | None) -> Tensor:
    """``proba`` through a fitted ``smoother`` (``None``: unchanged), on ``proba``'s device."""
    if smoother is None:
        return proba
    return smoother.transform(proba, data).to(proba.device)


def fit_smoother(name: str, params: dict[str, Any], proba: Tensor, data: HeteroData, *,
                 seed: int = 0) -> Smoother | None:
    """The smoother ``name`` fitted on a run's probabilities and graph (``None`` for ``none``).

    Example:
        >>> import torch
        >>> fit_smoother("none", {}, torch.zeros(2, 2), HeteroData()) is None
        True
    """
    if name == "none":
        return None
    return build_smoother(name, **params).fit(proba, data, seed=seed)
