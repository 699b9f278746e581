"""``label-lr``: logistic regression on the training labels aggregated along meta-paths.

On a featureless target type (Freebase's movies, AMiner's papers) the signal is in which
classes a node's meta-path neighbours carry. ``lp`` spreads the training labels with
fixed rules; this model *learns* how to weigh them. For every relation leaving the
target type ``T`` it builds the meta-path graph ``W_p`` (``T-X-T``: ``A A^T``, the number
of ``X`` nodes two targets share; ``T-T``: the relation symmetrised), without its
diagonal, and its row-normalised (mean) operator ``R_p``. With ``S`` the one-hot
**training** labels (validation and test labels are never read), each node gets:

* ``hops >= 1``: ``R_p S`` per path: the label mix of its neighbours;
* ``hops = 2``: ``R_q R_p S - diag(R_q R_p) S`` per ordered pair of paths: the two-step
  mix without the walks that come back to the node itself (a node never sees its own
  label, so training and test nodes get features of the same kind);
* per path, ``log(1 + deg)`` and ``log(1 + W_p S)``: how many neighbours, and how many
  labelled ones of each class.

With ``node_features`` on (the default) the target's own features ``x``, where it has
them, are appended (sparse ones kept sparse), so that a graph with informative features
(Facebook's page descriptions) is not reduced to its labels. The dense columns are
standardised on the training rows (so a rare class's few labels weigh as much as a
frequent class's many: scaling a class's labels changes nothing) and a multinomial
:class:`sklearn.linear_model.LogisticRegression` is fitted on the training rows; its
inverse regularisation ``C``, when left at ``none``, is chosen on the validation nodes'
macro-F1 among :data:`C_VALUES` (validation labels are used for that choice only).
``--loss weighted`` gives class-balanced sample weights (its ``weights`` and ``beta``),
``ce`` none. A fit is a few sparse products and four small convex problems: under a
second on Freebase and AMiner. The fitted model keeps the training labels by node id
and the relations it was fitted on (in order), so ``model.pt`` scores the graph it is
given again, new target nodes with edges included.

``neighbours`` says what an unlabelled neighbour is. ``all`` (default): a zero in the
means, so the share of labelled neighbours, and the degrees, are features too; where
labels are missing more often for one class than for the others (the rare class under
``--imbalance-mode mask``, a real labelling bias) that share carries signal.
``labelled``: the class mix of the labelled nodes reached in one and two steps (two
steps only through labelled nodes), no degrees: the features say nothing of the
unlabelled neighbours, except where a meta-path graph is so large that it is sampled
(``max_walks``): the sampled neighbours are drawn among all of them. On the Freebase
step-10 mask the first reaches 66.3 % balanced accuracy and the second 63.2 %; with the
natural labels 69.0 and 68.0 % (docs/balancing.md, "Sixth pass"): most of the first's
lead at step 10 is that share.

It needs many labels: with HeCo's 20 per class it is 12–19 points below ``lp`` on
Freebase and AMiner (docs/benchmarks_hin.md); use ``lp`` there.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.linear_model import LogisticRegression
from torch import Tensor
from torch_geometric.data import HeteroData

from ..data.graph import (
    class_counts,
    class_names,
    is_multilabel,
    labelled_mask,
    labels,
    split_mask,
    target_type,
)
from ..params import ParamSpec
from .base import COMMON_PARAMS, MODELS, FitContext, FitOutput, ModelSpec, unused_params
from .estimator import class_weight_sample_weights, no_sample_weights
from .inputs import is_sparse, scipy_features
from .label_propagation import OPERATOR_PARAMS
from .propagation import TrainingLabels, path_matrix, validation_macro_f1

__all__ = ["C_VALUES", "NEIGHBOURS", "LabelLogisticRegression", "label_aggregates"]

#: The values of ``C`` tried on validation when it is left at ``none``.
C_VALUES = (0.01, 0.1, 1.0, 10.0)
#: Which neighbours the means run over (``neighbours`` setting).
NEIGHBOURS = ("all", "labelled")

LABEL_LR_PARAMS: dict[str, ParamSpec] = {
    "hops": ParamSpec("int", 2, "steps the training labels are aggregated along the meta-path "
                      "graphs (1 or 2; 2 adds every ordered pair of paths)", low=1, high=2),
    "C": ParamSpec("float", None, "inverse L2 strength of the logistic regression (none: chosen "
                   f"on validation among {', '.join(f'{c:g}' for c in C_VALUES)})", low=0.0,
                   low_open=True),
    "neighbours": ParamSpec("str", "all", "all: means over every neighbour (an unlabelled one "
                            "counts as zero) plus degrees; labelled: the class mix of the "
                            "labelled nodes reached, no degrees", choices=NEIGHBOURS),
    "node_features": ParamSpec("bool", True, "append the target's own features x where it has "
                               "them"),
    "max_walks": OPERATOR_PARAMS["max_walks"],
    "max_neighbors": OPERATOR_PARAMS["max_neighbors"],
}


def _row_normalise(w: sp.csr_matrix) -> sp.csr_matrix:
    deg = np.asarray(w.sum(axis=1)).ravel()
    inv = np.divide(1.0, deg, out=np.zeros_like(deg), where=deg > 0)
    return sp.csr_matrix(sp.diags(inv) @ w)


def _mix(counts: np.ndarray) -> np.ndarray:
    """Rows scaled to sum 1 (all-zero rows stay zero)."""
    total = counts.sum(axis=1, keepdims=True)
    return np.divide(counts, total, out=np.zeros_like(counts), where=total > 0)


def label_aggregates(paths: list[sp.csr_matrix], seeds: np.ndarray, hops: int = 2,
                     neighbours: str = "all") -> np.ndarray:
    """The feature matrix of the module docstring, ``[N, F]``.

    Args:
        paths: Each meta-path graph ``W_p`` ``[N, N]`` (symmetric; its diagonal is ignored).
        seeds: ``S``, the one-hot training labels ``[N, C]``, zero elsewhere.
        hops: 1 or 2.
        neighbours: ``"all"``: means over every neighbour, an unlabelled one counting
            as zero, and the degree columns. ``"labelled"``: the class mix of the
            labelled nodes reached, ``mix(W_p S)`` and ``mix(W_q L W_p S - diag(W_q L W_p) S)``
            (``L`` keeps labelled intermediate nodes; ``mix`` scales rows to sum 1), no
            degree columns: nothing says how many neighbours are unlabelled, and a node's
            own labelled or unlabelled status changes none of its features.

    Returns:
        ``[R_p S]_p``, then for ``hops = 2`` ``[R_q R_p S - diag(R_q R_p) S]_{q, p}``,
        then ``[log(1 + deg_p), log(1 + W_p S)]_p`` (``"labelled"``: the mixes above,
        then ``[log(1 + W_p S)]_p``), side by side.

    Example:
        >>> w = sp.csr_matrix(np.array([[0, 1, 1], [1, 0, 0], [1, 0, 0]], float))
        >>> s = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
        >>> label_aggregates([w], s, hops=2)[:, :4].tolist()  # R S, then R R S - diag(R R) S
        [[0.0, 0.5, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.5]]
        >>> label_aggregates([w], s, hops=2, neighbours="labelled")[:, :4].tolist()
        [[0.0, 1.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0], [1.0, 0.0, 0.0, 1.0]]
    """
    if hops not in (1, 2):
        raise ValueError(f"hops must be 1 or 2, got {hops!r}")
    if neighbours not in NEIGHBOURS:
        raise ValueError(f"neighbours must be one of {', '.join(NEIGHBOURS)}, got {neighbours!r}")
    graphs = []
    for w in paths:
        w = sp.csr_matrix(w, dtype=np.float64)
        w.setdiag(0.0)
        w.eliminate_zeros()
        graphs.append(w)
    if neighbours == "all":
        steps = [_row_normalise(w) for w in graphs]
        finish = _identity
    else:
        labelled = sp.diags((seeds.sum(axis=1) > 0).astype(np.float64))
        steps = [sp.csr_matrix(w @ labelled) for w in graphs]  # walks into labelled nodes
        finish = _mix
    one = [m @ seeds for m in steps]
    blocks = [finish(b) for b in one]
    if hops == 2:
        for m_q in steps:
            for m_p, first in zip(steps, one, strict=True):
                back = np.asarray(m_q.multiply(m_p.T).sum(axis=1)).ravel()  # diag(M_q M_p)
                blocks.append(finish(m_q @ first - back[:, None] * seeds))
    for w in graphs:
        if neighbours == "all":
            degree = np.asarray((w > 0).sum(axis=1), dtype=np.float64).reshape(-1, 1)
            blocks.append(np.log1p(degree))
        blocks.append(np.log1p(w @ seeds))
    return np.hstack(blocks)


def _identity(x: np.ndarray) -> np.ndarray:
    return x


class LabelLogisticRegression:
    """The ``label-lr`` model (see the module docstring).

    Args:
        seed: Seed of the capped meta-path composition (large graphs) and the solver.
        hops: 1 or 2.
        C: Inverse L2 strength, or ``None`` to choose it on validation.
        neighbours: ``"all"`` or ``"labelled"`` (see :func:`label_aggregates`).
        node_features: Append the target's own features ``x`` where it has them.
        max_walks: Node pairs an exact ``T-X-T`` product may walk before it is sampled.
        max_neighbors: Neighbours kept per node when it is sampled.

    Example:
        >>> from hetero_imb.data.datasets.synthetic import make_synthetic
        >>> import hetero_imb as hi
        >>> g = hi.stratified_split(make_synthetic(num_items=200, seed=0), seed=0)
        >>> model = LabelLogisticRegression(C=1.0).fit(g)
        >>> model.predict_graph(g).shape
        torch.Size([200, 4])
    """

    def __init__(self, *, seed: int = 0, hops: int = 2, C: float | None = None,
                 neighbours: str = "all", node_features: bool = True,
                 max_walks: int = OPERATOR_PARAMS["max_walks"].default,
                 max_neighbors: int = OPERATOR_PARAMS["max_neighbors"].default):
        self.seed, self.hops, self.C, self.neighbours = seed, hops, C, neighbours
        self.node_features = node_features
        self.max_walks, self.max_neighbors = max_walks, max_neighbors
        self.labels: TrainingLabels | None = None
        self.relations: list[tuple[str, str, str]] = []  # the paths, in the fitted order
        self.x_layout: tuple[str, int] | None = None  # ("dense" | "sparse", width) at fit
        self.mean = self.std = None
        self.classifier: LogisticRegression | None = None
        self.fitted_proba: Tensor | None = None
        self.chosen: dict[str, Any] = {}

    def features(self, data: HeteroData) -> np.ndarray:
        """The unscaled label aggregates of ``data``'s target nodes, from the kept labels
        (then the dense node features, when used)."""
        return self._columns(data)[0]

    def _columns(self, data: HeteroData) -> tuple[np.ndarray, sp.csr_matrix | None]:
        """``(dense, sparse)``: the unscaled label aggregates followed by dense node
        features, and the sparse node features (``None`` unless stored sparse)."""
        if self.labels is None:
            raise RuntimeError("LabelLogisticRegression: call fit(data) before features")
        missing = [et for et in self.relations if et not in data.edge_types]
        if missing:
            raise ValueError(f"model 'label-lr' was fitted on the relations {self.relations}; "
                             f"the graph lacks {missing}")
        paths = [path_matrix(data, et, max_walks=self.max_walks, max_neighbors=self.max_neighbors,
                             seed=self.seed, hubs=False) for et in self.relations]
        onehot = self.labels.seeds(data).numpy().astype(np.float64)
        out = label_aggregates(paths, onehot, self.hops, self.neighbours)
        x = self._node_x(data)
        if x is None:
            return out, None
        return (out, x) if sp.issparse(x) else (np.hstack([out, x]), None)

    def _x_layout(self, data: HeteroData) -> tuple[str, int] | None:
        """``("dense" | "sparse", width)`` of the target features the model reads, or ``None``."""
        x = data[target_type(data)].get("x") if self.node_features else None
        return None if x is None else ("sparse" if is_sparse(x) else "dense", int(x.shape[1]))

    def _node_x(self, data: HeteroData) -> np.ndarray | sp.csr_matrix | None:
        """The target's own features (scipy CSR when stored sparse), or ``None``."""
        layout = self._x_layout(data)
        if layout != self.x_layout:
            raise ValueError(f"model 'label-lr' was fitted on target features {self.x_layout} "
                             f"(layout, width); the graph's are {layout}")
        return None if layout is None else scipy_features(data[target_type(data)].x)

    def _design(self, dense: np.ndarray,
                sparse: sp.csr_matrix | None) -> np.ndarray | sp.csr_matrix:
        """The scaled design matrix: standardised dense columns, then sparse features."""
        scaled = (dense - self.mean) / self.std
        return scaled if sparse is None else sp.hstack([sp.csr_matrix(scaled), sparse]).tocsr()

    def fit(self, data: HeteroData,
            sample_weight: np.ndarray | None = None) -> LabelLogisticRegression:
        """Keep ``data``'s training labels, build the features, fit (``C`` chosen on
        validation when ``None``). ``sample_weight``: one per labelled training node, in
        node order.

        Raises:
            ValueError: multi-label data, no relation leaving the target type, or
                training labels of fewer than two classes.
        """
        if is_multilabel(data):
            raise ValueError("model 'label-lr' takes single-label graphs (class ids y [N]); "
                             "the graph's labels are multi-label (multi-hot y [N, C])")
        target = target_type(data)
        self.relations = [et for et in data.edge_types if et[0] == target]
        if not self.relations:
            raise ValueError(f"model 'label-lr' needs relations from the target type {target!r}; "
                             f"got edge types {data.edge_types}")
        self.labels = TrainingLabels.of(data)
        present = sorted(set(self.labels.y.tolist()))
        if len(present) < 2:
            raise ValueError(f"model 'label-lr' needs training labels of at least two classes; "
                             f"the graph's are all of class {present[0]}")
        self.x_layout = self._x_layout(data)
        dense, sparse = self._columns(data)
        y = labels(data)
        train = (split_mask(data, "train") & labelled_mask(y)).numpy()
        self.mean, self.std = dense[train].mean(axis=0), dense[train].std(axis=0)
        self.std[self.std == 0] = 1.0
        x = self._design(dense, sparse)
        best = None
        for c in C_VALUES if self.C is None else (self.C,):
            clf = LogisticRegression(C=c, max_iter=2000, random_state=self.seed)
            clf.fit(x[train], y.numpy()[train], sample_weight=sample_weight)
            proba = self._proba(clf, x)
            score = validation_macro_f1(proba, data)
            if best is None or score > best[0]:  # first best wins: deterministic
                best = (score, c, clf, proba)
        self.chosen = {"C": best[1], "val_macro_f1": best[0], "features": int(x.shape[1]),
                       "node_features": self.x_layout is not None}
        self.classifier, self.fitted_proba = best[2], best[3]
        return self

    def _proba(self, clf: LogisticRegression, x: np.ndarray | sp.csr_matrix) -> Tensor:
        out = np.zeros((x.shape[0], self.labels.num_classes))
        out[:, clf.classes_] = clf.predict_proba(x)  # a class absent from training: 0
        return torch.as_tensor(out, dtype=torch.float)

    def predict_graph(self, data: HeteroData) -> Tensor:
        """Class probabilities ``[N, C]`` of ``data``'s target nodes (the kept training
        labels, those whose ids ``data`` has, aggregated over ``data``'s meta-paths)."""
        if self.classifier is None:
            raise RuntimeError("LabelLogisticRegression: call fit(data) before predict_graph")
        return self._proba(self.classifier, self._design(*self._columns(data)))

    def description(self) -> str:
        """What the model saw and chose, for the run's summary."""
        c = self.chosen
        if not c:
            return "label-lr (not fitted)"
        labels_part = "training labels" if c["node_features"] else "training labels only"
        own = "node features + " if c["node_features"] else ""
        over = "" if self.neighbours == "all" else ", labelled neighbours only"
        return (f"{own}{labels_part}, aggregated over {self.hops} meta-path step(s){over} "
                f"({c['features']} features); logistic regression, C {c['C']}")


def _fit_label_lr(data: HeteroData, context: FitContext) -> FitOutput:
    """Fit hook: features from the training labels, one convex fit per ``C``."""
    config = context.config
    own = {k: v for k, v in context.settings.items() if k in LABEL_LR_PARAMS}
    y = labels(data)
    train = split_mask(data, "train") & labelled_mask(y)
    weights_of = context.spec.losses[config.loss]
    weight = weights_of(config.loss_params, y[train].numpy(),
                        class_counts(data, split_mask(data, "train")), class_names(data))
    start = time.perf_counter()
    model = LabelLogisticRegression(seed=config.seed, **own).fit(data, weight)
    return FitOutput(proba=model.fitted_proba, history=[], best_epoch=0,
                     fit_seconds=time.perf_counter() - start, epochs=1,
                     features=model.description(), model=model)


def _build_label_lr(data: HeteroData, *, seed: int = 0, **settings: Any) -> LabelLogisticRegression:
    return LabelLogisticRegression(seed=seed, **{k: v for k, v in settings.items()
                                                 if k in LABEL_LR_PARAMS})


MODELS.register("label-lr", ModelSpec(
    builder=_build_label_lr,
    params={**LABEL_LR_PARAMS, **unused_params(COMMON_PARAMS, "label-lr")},
    summary="logistic regression on the training labels aggregated along the target's "
            "meta-paths (1-2 steps, own label removed)",
    fit=_fit_label_lr, samplers=("none",), augmenters=("none",), kind="propagation",
    losses={"ce": no_sample_weights, "weighted": class_weight_sample_weights},
))
