"""Keep a trained model and use it again: the run folder's ``model.pt`` and :func:`load_run`.

Every run folder holds ``model.pt`` with what scoring needs: the resolved config,
class names, the target type, the graph schema it was trained on (node types,
feature widths, node counts), the user's node ids, the weights (``state_dict``; the
fitted estimator for feature baselines, whose feature scaling lives in the
weights), and tuned decision offsets (see :mod:`hetero_imb.training.decision`).

:func:`load_run` returns a :class:`TrainedModel` whose ``predict_proba(data)`` /
``predict(data)`` / ``predictions(data)`` score a graph in the same schema — by
default the run's own graph, rebuilt from its config. Target nodes added after
training (with edges to existing nodes, and features where their type has them) are
scored without retraining by every inductive model; an encoder that is not
(``Encoder.inductive = False``, e.g. metapath2vec) and node types represented by
learned per-node embeddings (featureless types) need the training graph's nodes, and
:class:`NotInductiveError` says so in one line.

``model.pt`` is a pickle (``torch.load(weights_only=False)``): load run folders you
trust only.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from torch import Tensor
from torch_geometric.data import HeteroData

from .._io import atomic_write, atomic_write_text, save_torch
from ..data.graph import class_names as graph_class_names
from ..data.graph import in_type_order, target_type
from ..data.validate import check_is_graph, validate_graph
from ..models.inputs import graph_metapaths
from ..training.config import RunConfig
from .multilabel_metrics import multilabel_predictions_frame, predict_labels
from .predictions import history_csv, node_ids, predictions_frame, split_column

__all__ = ["FORMAT", "NotInductiveError", "TrainedModel", "capture", "load_run", "write_run_files"]

#: Version of the ``model.pt`` layout.
FORMAT = 1
_ALTERNATIVE = "retrain on the graph that includes the new nodes, or use an inductive model " \
    "(gcn, gat, rgcn, han, mlp, xgboost)"


class NotInductiveError(ValueError):
    """The graph has nodes the saved model has no representation for."""


def _schema(data: HeteroData) -> dict[str, Any]:
    return {
        t: {"num_nodes": int(data[t].num_nodes),
            "features": int(data[t].x.size(-1)) if data[t].get("x") is not None else None}
        for t in data.node_types
    }


def _embedded_types(model: Any) -> list[str]:
    from ..models.inputs import NodeInput

    types: list[str] = []
    for module in model.modules() if isinstance(model, torch.nn.Module) else ():
        if isinstance(module, NodeInput):
            types += [t for t in module.featureless_types() if t not in types]
    return types


def capture(config: RunConfig, data: HeteroData, model: Any, *,
            decision: dict[str, Any] | None = None,
            preprocessed: HeteroData | None = None, graph_source: str = "dataset",
            smoother: Any = None) -> dict[str, Any]:
    """The content of ``model.pt`` for a trained ``model`` on ``data`` (the run's graph).

    Args:
        config: The run's resolved config.
        data: The graph the model was trained on (after imbalance and split).
        model: The trained :class:`~hetero_imb.models.NodeClassifier`, or a feature
            baseline's fitted estimator.
        decision: Tuned decision offsets, if any.
        preprocessed: ``data`` after the encoder's ``preprocess``; for an encoder that
            is not inductive, the target-node attributes it added (e.g. metapath2vec's
            embeddings) are kept, so that scoring the training graph needs no retraining.
        graph_source: ``"dataset"`` (loaded from ``config.dataset``, which
            :meth:`TrainedModel.graph` can reload) or ``"code"`` (a graph passed to ``run``).
        smoother: The run's fitted smoother (:mod:`hetero_imb.models.smoothers`), kept
            with its training labels and chosen settings and applied again after the
            model when scoring; ``None`` when the run has none.
    """
    encoder = getattr(model, "encoder", None)
    # a module (encoder + head) is saved as weights, a fitted estimator as itself
    kind = "neural" if isinstance(model, torch.nn.Module) else "features"
    payload: dict[str, Any] = {
        "format": FORMAT,
        "config": config.to_dict(),
        "kind": kind,
        "target": target_type(data),
        "class_names": graph_class_names(data),
        "multilabel": getattr(data[target_type(data)].get("y"), "ndim", 1) == 2,
        "schema": _schema(data),
        # relations in training order: a model indexes them by position (check_schema)
        "edge_types": [list(et) for et in data.edge_types],
        # HAN and SeHGNN name their meta-path parameters by position too
        "metapaths": [[list(et) for et in path] for path in graph_metapaths(data)],
        "node_ids": {t: node_ids(data, t) for t in data.node_types},
        # types an augmenter added (e.g. bat's virtual_class) are rebuilt by its prepare
        "embedded_types": [t for t in _embedded_types(model) if t in data.node_types],
        "inductive": bool(getattr(encoder, "inductive", True)),
        "not_inductive_reason": getattr(encoder, "not_inductive_reason", ""),
        "decision": decision,
        "graph_source": graph_source,
        # per-type feature scaling the model saw (data/scaling.py); applied again by predict
        "scaling": dict(getattr(data, "standardized", None) or {}),
        "smoother": smoother,
    }
    if preprocessed is not None and not payload["inductive"]:
        target, before = target_type(data), set(data[target_type(data)].keys())
        payload["preprocessed"] = {k: v for k, v in preprocessed[target].items()
                                   if k not in before and isinstance(v, Tensor)}
    if kind == "neural":
        payload["state_dict"] = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    else:
        payload["estimator"] = model
    return payload


def write_run_files(result: Any, folder: str | os.PathLike) -> None:
    """Write ``model.pt``, ``predictions.csv`` (validation and test nodes) and
    ``history.csv`` of ``result`` (a :class:`~hetero_imb.report.results.RunResult`)."""
    folder = Path(folder)
    atomic_write_text(folder / "history.csv", history_csv(result.history))
    checkpoint = getattr(result, "checkpoint", None)
    if checkpoint is not None:
        atomic_write(folder / "model.pt", lambda tmp: save_torch(checkpoint, tmp))
    if result.proba is None or not result.masks:
        return
    ids = getattr(result, "node_ids", None) or list(range(result.proba.size(0)))
    split = [""] * len(ids)
    for name in ("train", "val", "test"):
        for i in torch.nonzero(result.masks[name]).flatten().tolist():
            split[i] = name
    offsets = (getattr(result, "decision", None) or {}).get("offsets")
    if result.y is not None and result.y.dim() == 2:  # multi-label: label sets, thresholds
        thresholds = (getattr(result, "decision", None) or {}).get("thresholds")
        frame = multilabel_predictions_frame(ids, result.proba, thresholds, result.class_names,
                                             split=split, y=result.y)
    else:
        frame = predictions_frame(ids, result.proba, _decide(result.proba, offsets),
                                  result.class_names, split=split, y=result.y)
    frame = frame[frame["split"].isin(["val", "test"])]
    atomic_write(folder / "predictions.csv", lambda tmp: frame.to_csv(tmp, index=False))


def _decide(proba: Tensor, offsets: list[float] | None) -> Tensor:
    """Class ids under the tuned offsets, on the float64 scores they were tuned on
    (:func:`~hetero_imb.training.decision.log_proba`)."""
    import numpy as np

    from ..training.decision import apply_offsets, log_proba

    scores = log_proba(proba.detach().cpu().numpy())
    chosen = apply_offsets(scores, None if offsets is None else np.asarray(offsets, np.float64))
    return torch.as_tensor(chosen, dtype=torch.long)


def _ids_differ(saved: list[Any], data: HeteroData, node_type: str) -> bool:
    given = (getattr(data, "node_ids", None) or {}).get(node_type)
    return given is not None and list(given) != list(saved)


def check_schema(payload: dict[str, Any], data: HeteroData) -> HeteroData:
    """``data`` (a shallow copy carrying the run's class names) if a model saved as
    ``payload`` can score it; else a one-line error saying what differs.

    Types and meta-paths listed in another order than the run's are put in the run's
    order (models index relations by position); the graph then passes
    :func:`~hetero_imb.data.validate.validate_graph` (labels not required).

    Raises:
        TypeError: ``data`` is not a ``HeteroData``.
        NotInductiveError: nodes the model has no representation for.
        GraphValidationError: out-of-range edges, NaN/inf features and the other
            conventions :func:`~hetero_imb.data.validate.validate_graph` checks.
        ValueError: another target type, node types, relations or meta-paths than the
            run's, or other feature widths.
    """
    check_is_graph(data)
    target = payload["target"]
    if getattr(data, "target_node_type", None) != target:
        raise ValueError(
            f"data must have target_node_type {target!r} like the trained run, got "
            f"{getattr(data, 'target_node_type', None)!r}"
        )
    for t, saved in payload["schema"].items():
        if t not in data.node_types:
            raise ValueError(f"data has no node type {t!r}; the run was trained on {list(payload['schema'])}")
        x = data[t].get("x")
        width = int(x.size(-1)) if x is not None else None
        if width != saved["features"]:
            raise ValueError(
                f"node type {t!r} must have {saved['features'] or 'no'} features like the "
                f"trained run, got {width or 'none'}"
            )
    extra = [t for t in data.node_types if t not in payload["schema"]]
    if extra:
        raise ValueError(f"data has node type {extra[0]!r}, which the run was not trained on; "
                         f"expected the node types {list(payload['schema'])}")
    data = _in_training_order(payload, data)
    # out-of-range edges or NaN features would crash the model or give NaN probabilities
    validate_graph(data, require_labels=False)
    model = payload["config"]["model"]
    if not payload["inductive"]:
        changed = [t for t, s in payload["schema"].items()
                   if int(data[t].num_nodes) != s["num_nodes"]
                   or _ids_differ(payload["node_ids"][t], data, t)]
        if changed:
            raise NotInductiveError(
                f"model {model!r} cannot score nodes it was not trained with ({changed[0]!r} "
                f"nodes differ): {payload['not_inductive_reason']}; {_ALTERNATIVE}"
            )
    for t in payload["embedded_types"]:
        saved_n = payload["schema"][t]["num_nodes"]
        if int(data[t].num_nodes) != saved_n or _ids_differ(payload["node_ids"][t], data, t):
            given = list((getattr(data, "node_ids", None) or {}).get(t) or [])
            if len(given) == saved_n and set(given) == set(payload["node_ids"][t]):
                raise NotInductiveError(
                    f"model {model!r} represents the featureless node type {t!r} by one "
                    f"learned embedding per training node, in training order; the graph has "
                    f"the same {t!r} nodes in another order: give them (and their edges) in "
                    "the training order"
                )
            raise NotInductiveError(
                f"model {model!r} represents the featureless node type {t!r} by one learned "
                f"embedding per training node ({saved_n} of them, in training order); the "
                f"graph's {t!r} nodes differ ({int(data[t].num_nodes)}), so new ones have no "
                f"embedding: give {t!r} features (x) and retrain, or add new nodes only to "
                "types with features"
            )
    out = copy.copy(data)
    out.class_names = list(payload["class_names"])
    given = getattr(data, "class_names", None)
    if given is not None and list(given) != out.class_names and data[target].get("y") is not None \
            and bool((data[target].y >= 0).any()):
        raise ValueError(
            f"data labels name classes {list(given)}; the trained run has {out.class_names}"
        )
    return out


def _in_training_order(payload: dict[str, Any], data: HeteroData) -> HeteroData:
    """``data`` with the run's relations and meta-paths, in the run's order (node types
    too); a relation or meta-path missing or not in the run is a one-line ``ValueError``.
    Runs saved before relations were recorded are checked for node types only."""
    saved = [tuple(et) for et in payload.get("edge_types") or []]
    if not saved:
        return data
    given = list(data.edge_types)
    missing = [et for et in saved if et not in given]
    if missing:
        raise ValueError(f"data has no relation {missing[0]}; the run was trained on the "
                         f"relations {saved}")
    extra = [et for et in given if et not in saved]
    if extra:
        raise ValueError(f"data has the relation {extra[0]}, which the run was not trained "
                         f"on; expected the relations {saved}")
    node_types = list(payload["schema"])
    if given != saved or list(data.node_types) != node_types:
        data = in_type_order(data, node_types, saved)
    paths = [[tuple(et) for et in path] for path in payload.get("metapaths") or []]
    own = graph_metapaths(data)
    if own and sorted(own) != sorted(paths):
        raise ValueError(f"data has the meta-paths {own}; the run was trained on {paths}")
    if own != paths:  # absent, or in another order: the run's, in its order
        data = copy.copy(data)
        data.metapaths = paths
    return data


class TrainedModel:
    """A model loaded from a run folder (see :func:`load_run`).

    Attributes:
        config: The run's :class:`~hetero_imb.training.config.RunConfig`.
        class_names: Class names, index = class id.
        decision: Tuned decision record (``{"spec", "offsets", ...}``) or ``None``.
    """

    def __init__(self, payload: dict[str, Any], path: Path):
        from ..training.config import resolve

        self.path = path
        self.payload = payload
        self.config: RunConfig = resolve(payload["config"])
        self.class_names: list[str] = list(payload["class_names"])
        self.decision: dict[str, Any] | None = payload.get("decision")
        self._import_plugins()

    def __repr__(self) -> str:
        cfg = self.config
        return f"TrainedModel({cfg.model!r} on {cfg.dataset!r}, classes {self.class_names}, from {str(self.path)!r})"

    def _import_plugins(self) -> None:
        from ..registry import import_plugins

        import_plugins(self.config.plugins)

    def graph(self, root: str | None = None) -> HeteroData:
        """The run's own graph: its dataset reloaded (from ``root``, default the run's
        data root), with the run's imbalance and split."""
        from ..data.datasets import DATASETS, load
        from ..training.runner import prepare_data
        from .predictions import with_node_ids

        cfg = self.config
        if self.payload.get("graph_source") == "code" or cfg.dataset not in DATASETS:
            raise ValueError(
                f"run {str(self.path)!r} was trained on a graph passed in code, which it cannot "
                "reload; pass data=<your HeteroData> (python -m hetero_imb.predict: --graph FILE)"
            )
        root = cfg.root if root is None else root
        data = with_node_ids(load(cfg.dataset, root=root, **cfg.dataset_options))
        # raw features: predict_proba applies the training run's own scaling
        return prepare_data(data, imbalance=cfg.imbalance, imbalance_mode=cfg.imbalance_mode,
                            split=cfg.split, seed=cfg.seed, standardize=False,
                            dataset=cfg.dataset, root=root)

    def _check(self, data: HeteroData) -> HeteroData:
        return check_schema(self.payload, data)

    def predict_proba(self, data: HeteroData | None = None) -> Tensor:
        """Class probabilities ``[num_target_nodes, C]`` of ``data``'s target nodes.

        Args:
            data: A graph in the training schema (default: :meth:`graph`).

        Raises:
            NotInductiveError: ``data`` has nodes the model cannot represent.
            ValueError: ``data`` does not follow the training schema.
        """
        data = self._check(self.graph() if data is None else data)
        if self.payload.get("scaling"):
            from ..data.scaling import standardize_features

            data = standardize_features(data, self.payload["scaling"])
        from ..models.smoothers import smoothed

        # the run's smoother (training labels kept by node id), after the model
        return smoothed(self._model_proba(data), data, self.payload.get("smoother"))

    @torch.no_grad()
    def _model_proba(self, data: HeteroData) -> Tensor:
        """The model's own probabilities on a checked, scaled graph."""
        if self.payload["kind"] != "neural":
            estimator = self.payload["estimator"]
            if hasattr(estimator, "predict_graph"):  # reads the graph (label propagation)
                return estimator.predict_graph(data)
            from ..data.features import node_features

            x, _ = node_features(data)
            proba = estimator.predict_proba(x.numpy())
            return torch.as_tensor(proba, dtype=torch.float)
        from ..balancing.augmenters import build_augmenter
        from ..models import MODELS, build_model

        cfg = self.config
        # the node/edge types the run's augmenter added (label-free, empty relations)
        data = build_augmenter(cfg.augmenter, **cfg.augmenter_params).prepare(data)
        spec = MODELS.get(cfg.model, parameter="model")
        settings = spec.prepare_params(MODELS.validate(cfg.model, cfg.model_params), cfg)
        model = build_model(cfg.model, data, seed=cfg.seed, **settings)
        model.load_state_dict(self.payload["state_dict"])
        model.eval()
        stored = self.payload.get("preprocessed")
        if stored:  # a non-inductive encoder on its training graph: reuse its artefacts
            data[self.payload["target"]].update(stored)
        else:
            data = model.encoder.preprocess(data)
        logits = model(data)
        return logits.sigmoid() if self.multilabel else logits.softmax(dim=-1)

    @property
    def multilabel(self) -> bool:
        """Whether the run predicts label sets (multi-hot, one sigmoid per label)."""
        return bool(self.payload.get("multilabel", False))

    def predict(self, data: HeteroData | None = None) -> Tensor:
        """Predicted class ids (tuned decision offsets applied when the run has them); for a
        multi-label run, multi-hot label sets ``[N, C]`` at the (tuned) thresholds."""
        if self.multilabel:
            thresholds = (self.decision or {}).get("thresholds")
            return torch.as_tensor(predict_labels(self.predict_proba(data), thresholds))
        return _decide(self.predict_proba(data), (self.decision or {}).get("offsets"))

    def predictions(self, data: HeteroData | None = None) -> pd.DataFrame:
        """The predictions table of :mod:`hetero_imb.report.predictions` for ``data``."""
        data = self.graph() if data is None else data
        proba = self.predict_proba(data)
        offsets = (self.decision or {}).get("offsets")
        target = data[target_type(data)]
        y = target.get("y")
        if self.multilabel:
            return multilabel_predictions_frame(
                node_ids(data), proba, (self.decision or {}).get("thresholds"), self.class_names,
                split=split_column(data), y=y if y is not None and y.dim() == 2 else None)
        return predictions_frame(
            node_ids(data), proba, _decide(proba, offsets), self.class_names,
            split=split_column(data), y=y if y is not None and y.numel() == proba.size(0) else None,
        )


def load_run(run_dir: str | os.PathLike) -> TrainedModel:
    """Load the model of a finished run folder.

    Args:
        run_dir: A folder written by ``python -m hetero_imb.train`` or
            :func:`hetero_imb.save_run`.

    Returns:
        A :class:`TrainedModel` with ``predict_proba(data)``, ``predict(data)`` and
        ``predictions(data)`` (``data`` defaults to the run's own graph).

    Raises:
        FileNotFoundError: the folder has no ``model.pt``.
        ValueError: ``model.pt`` cannot be read, or is of another format.

    Example:
        >>> model = load_run("runs/my-run")             # doctest: +SKIP
        >>> model.predictions().head()                  # doctest: +SKIP
    """
    path = Path(run_dir)
    file = path / "model.pt"
    if not file.is_file():
        raise FileNotFoundError(
            f"{file} does not exist: run_dir must be a run folder written by this version "
            "of hetero_imb (older runs kept no model; train again)"
        )
    try:
        payload = torch.load(file, map_location="cpu", weights_only=False)
    except Exception as err:  # truncated, not a pickle, or written by something else
        raise ValueError(f"{file} is not a readable model file ({type(err).__name__}: "
                         f"{str(err).splitlines()[0] if str(err) else 'no detail'}); "
                         "train the run again") from None
    found = payload.get("format") if isinstance(payload, dict) else None
    if found != FORMAT:
        raise ValueError(f"{file} has format {found!r}; this version reads {FORMAT}")
    return TrainedModel(payload, path)
