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
macro-F1 among :data:`C_VALUES` (validation labels are used for that choice, and for
``cross_fit``'s below, only). ``--loss weighted`` gives class-balanced sample weights
(its ``weights`` and ``beta``), ``ce`` none. A one-round fit is a few sparse products and
four small convex problems: under a second on Freebase and AMiner (``rounds = 2``:
0.6–2.5 s). The fitted model keeps the training labels by node id
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
lead at step 10 is that share (measured against drop mode with a label-free control:
up to 3 points with one round, 4.5 with ``rounds = 2``, whose second round reads it in
both ``neighbours`` modes; "Eighth pass").

``rounds = 2`` adds a second fit (collective classification): every node without a
training label is given the first fit's class probabilities, the same aggregates are
built over that filled label matrix, and a second logistic regression is fitted on
them. Built naively, a training node's features would carry its own label back through
its neighbours' predictions. ``cross_fit`` deals the training labels into ``folds``
folds (class by class) and gives the rows of fold ``k`` the aggregates filled by a first
fit refitted without fold ``k``'s labels, so that no row reads its own label; the price
falls on the rarest classes (a class with two or three training labels loses a third to
a half of them in its fold's refit, and its recall collapses on such graphs), so
``cross_fit`` left at ``none`` fits both and keeps the better on validation (only the plain one where some fold's complement holds a
single class). It lifts the few-label cases most (HeCo's splits: +0.5 to +9.9 points of
macro-F1) and brings ``neighbours=labelled`` level with ``all`` on the Freebase step-10
mask (66.6 % from 63.2 %, against 66.7 %; docs/balancing.md, "Seventh pass").

It needs many labels: with HeCo's 20 per class it is 12–19 points below ``lp`` on
Freebase and AMiner, 6–10 with ``rounds = 2`` (docs/benchmarks_hin.md); use ``lp`` there.
"""

from __future__ import annotations

import numbers
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
from ..params import ParamSpec, validate_params
from .base import COMMON_PARAMS, MODELS, FitContext, FitOutput, ModelSpec, unused_params
from .estimator import class_weight_sample_weights, no_sample_weights
from .inputs import is_sparse, scipy_features
from .label_propagation import OPERATOR_PARAMS
from .propagation import TrainingLabels, path_matrix, validation_macro_f1

__all__ = ["C_VALUES", "NEIGHBOURS", "LabelLogisticRegression", "fill_unlabelled",
           "fold_problem", "label_aggregates", "label_folds"]

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
    "rounds": ParamSpec("int", 1, "1: the training labels only; 2: a second fit that also reads "
                        "the first fit's class probabilities of the unlabelled neighbours "
                        "(see cross_fit)", low=1, high=2),
    "cross_fit": ParamSpec("bool", None, "second round: the training rows read neighbours' "
                           "predictions made without their fold's labels (true) or the first "
                           "round's own (false); none: chosen on validation"),
    "folds": ParamSpec("int", 5, "folds of the training labels when the second round is "
                       "cross-fitted", low=2),
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


def fill_unlabelled(seeds: np.ndarray, proba: np.ndarray) -> np.ndarray:
    """``seeds``' rows where a node has a training label, ``proba``'s rows elsewhere: the
    soft labels the second round aggregates.

    Example:
        >>> seeds, proba = np.array([[1.0, 0.0], [0.0, 0.0]]), np.array([[0.4, 0.6], [0.3, 0.7]])
        >>> fill_unlabelled(seeds, proba).tolist()
        [[1.0, 0.0], [0.3, 0.7]]
    """
    return np.where(seeds.sum(axis=1, keepdims=True) > 0, seeds, proba)


def label_folds(y: np.ndarray, folds: int, seed: int) -> np.ndarray:
    """A fold id in ``[0, folds)`` for each of ``y``'s labels, dealt class by class in a
    seeded random order, so that each fold holds about ``1 / folds`` of every class.

    Example:
        >>> label_folds(np.array([0, 0, 0, 0, 1, 1]), 2, seed=0).tolist().count(0)
        3
    """
    if isinstance(folds, bool) or not isinstance(folds, numbers.Integral) or folds < 1:
        raise ValueError(f"label_folds: folds must be an integer >= 1, got {folds!r}")
    out = np.empty(len(y), dtype=np.int64)
    rng = np.random.default_rng(seed)
    dealt = 0
    for c in np.unique(y):
        members = rng.permutation(np.flatnonzero(y == c))
        out[members] = (dealt + np.arange(len(members))) % folds
        dealt += len(members)
    return out


def fold_problem(y: np.ndarray, fold: np.ndarray) -> str:
    """Why a first round cannot be refitted without some fold (the labels outside it are
    all of one class, or none are left), or ``""``.

    Example:
        >>> fold_problem(np.array([0, 0, 1]), np.array([0, 1, 1]))
        'outside fold 1 all are of class 0'
        >>> fold_problem(np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1]))
        ''
    """
    for k in np.unique(fold):
        classes = np.unique(y[fold != k])
        if classes.size < 2:
            what = f"all are of class {int(classes[0])}" if classes.size else "none are left"
            return f"outside fold {int(k)} {what}"
    return ""


class _Stage:
    """One fitted logistic regression and the standardisation of its dense columns."""

    def __init__(self, mean: np.ndarray, std: np.ndarray, classifier: LogisticRegression,
                 num_classes: int):
        self.mean, self.std, self.classifier = mean, std, classifier
        self.num_classes = num_classes

    @classmethod
    def fit(cls, dense: np.ndarray, sparse: sp.csr_matrix | None, y: np.ndarray,
            rows: np.ndarray, sample_weight: np.ndarray | None, c: float, seed: int,
            num_classes: int) -> _Stage:
        """Standardise on ``rows`` and fit there (``sample_weight``: one per row of ``rows``)."""
        mean, std = dense[rows].mean(axis=0), dense[rows].std(axis=0)
        std[std == 0] = 1.0
        stage = cls(mean, std, LogisticRegression(C=c, max_iter=2000, random_state=seed),
                    num_classes)
        stage.classifier.fit(stage.design(dense, sparse)[rows], y[rows],
                             sample_weight=sample_weight)
        return stage

    def design(self, dense: np.ndarray, sparse: sp.csr_matrix | None) -> np.ndarray | sp.csr_matrix:
        """The scaled design matrix: standardised dense columns, then sparse features."""
        scaled = (dense - self.mean) / self.std
        return scaled if sparse is None else sp.hstack([sp.csr_matrix(scaled), sparse]).tocsr()

    def proba(self, dense: np.ndarray, sparse: sp.csr_matrix | None) -> np.ndarray:
        """Class probabilities ``[N, C]`` (a class absent from the fit's rows: 0)."""
        out = np.zeros((dense.shape[0], self.num_classes))
        out[:, self.classifier.classes_] = self.classifier.predict_proba(self.design(dense, sparse))
        return out


class LabelLogisticRegression:
    """The ``label-lr`` model (see the module docstring).

    Args:
        seed: Seed of the capped meta-path composition (large graphs), the solver and the
            second round's folds.
        hops: 1 or 2.
        C: Inverse L2 strength, or ``None`` to choose it on validation (per round).
        neighbours: ``"all"`` or ``"labelled"`` (see :func:`label_aggregates`).
        node_features: Append the target's own features ``x`` where it has them.
        rounds: 1, or 2 for the cross-fitted second round of the module docstring.
        cross_fit: Whether the second round's training rows read their neighbours'
            predictions from first rounds fitted without their fold's labels (``True``),
            from the first round itself (``False``), or the better of both on
            validation (``None``).
        folds: Folds of the training labels when cross-fitted.
        max_walks: Node pairs an exact ``T-X-T`` product may walk before it is sampled.
        max_neighbors: Neighbours kept per node when it is sampled.

    Example:
        >>> from hetero_imb.data.datasets.synthetic import make_synthetic
        >>> import hetero_imb as hi
        >>> g = hi.stratified_split(make_synthetic(num_items=200, seed=0), seed=0)
        >>> model = LabelLogisticRegression(C=1.0).fit(g)
        >>> model.predict_graph(g).shape
        torch.Size([200, 4])
        >>> LabelLogisticRegression(C=1.0, rounds=2).fit(g).predict_graph(g).shape
        torch.Size([200, 4])
    """

    def __init__(self, *, seed: int = 0, hops: int = 2, C: float | None = None,
                 neighbours: str = "all", node_features: bool = True, rounds: int = 1,
                 cross_fit: bool | None = None, folds: int = 5,
                 max_walks: int = OPERATOR_PARAMS["max_walks"].default,
                 max_neighbors: int = OPERATOR_PARAMS["max_neighbors"].default):
        given = {"hops": hops, "C": C, "neighbours": neighbours, "node_features": node_features,
                 "rounds": rounds, "cross_fit": cross_fit, "folds": folds,
                 "max_walks": max_walks, "max_neighbors": max_neighbors}
        options = validate_params(given, LABEL_LR_PARAMS, owner="model 'label-lr'")
        self.seed = seed
        self.hops, self.C, self.neighbours = options["hops"], options["C"], options["neighbours"]
        self.node_features, self.rounds = options["node_features"], options["rounds"]
        self.cross_fit, self.folds = options["cross_fit"], options["folds"]
        self.max_walks, self.max_neighbors = options["max_walks"], options["max_neighbors"]
        self.labels: TrainingLabels | None = None
        self.relations: list[tuple[str, str, str]] = []  # the paths, in the fitted order
        self.x_layout: tuple[str, int] | None = None  # ("dense" | "sparse", width) at fit
        self.stages: list[_Stage] = []  # one per round
        self.fitted_proba: Tensor | None = None
        self.chosen: dict[str, Any] = {}

    def features(self, data: HeteroData) -> np.ndarray:
        """The unscaled first-round label aggregates of ``data``'s target nodes, from the
        kept labels (then the dense node features, when used)."""
        if self.labels is None:
            raise RuntimeError("LabelLogisticRegression: call fit(data) before features")
        return self._with_x(self._aggregate(self._paths(data), self._seeds(data)), data)[0]

    def _paths(self, data: HeteroData) -> list[sp.csr_matrix]:
        """The meta-path graph of each fitted relation, in the fitted order."""
        missing = [et for et in self.relations if et not in data.edge_types]
        if missing:
            raise ValueError(f"model 'label-lr' was fitted on the relations {self.relations}; "
                             f"the graph lacks {missing}")
        return [path_matrix(data, et, max_walks=self.max_walks, max_neighbors=self.max_neighbors,
                            seed=self.seed, hubs=False) for et in self.relations]

    def _seeds(self, data: HeteroData) -> np.ndarray:
        return self.labels.seeds(data).numpy().astype(np.float64)

    def _aggregate(self, paths: list[sp.csr_matrix], seeds: np.ndarray) -> np.ndarray:
        return label_aggregates(paths, seeds, self.hops, self.neighbours)

    def _with_x(self, aggregates: np.ndarray,
                data: HeteroData) -> tuple[np.ndarray, sp.csr_matrix | None]:
        """``(dense, sparse)``: the aggregates followed by dense node features, and the
        sparse node features (``None`` unless stored sparse)."""
        x = self._node_x(data)
        if x is None:
            return aggregates, None
        return (aggregates, x) if sp.issparse(x) else (np.hstack([aggregates, x]), None)

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

    def fit(self, data: HeteroData,
            sample_weight: np.ndarray | None = None) -> LabelLogisticRegression:
        """Keep ``data``'s training labels, build the features, fit (``C`` chosen on
        validation when ``None``), then the second round when ``rounds = 2``.
        ``sample_weight``: one per labelled training node, in node order.

        Raises:
            ValueError: multi-label data, no relation leaving the target type, training
                labels of fewer than two classes, or (``rounds = 2``) a fold whose
                complement holds labels of one class only.
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
        paths, seeds = self._paths(data), self._seeds(data)
        y_all = labels(data)
        y = y_all.numpy()
        train = (split_mask(data, "train") & labelled_mask(y_all)).numpy()
        dense, sparse = self._with_x(self._aggregate(paths, seeds), data)
        first, score, c_first, proba = self._fit_chosen(dense, sparse, y, train, sample_weight,
                                                        data)
        self.stages = [first]
        self.chosen = {"C": c_first, "val_macro_f1": score,
                       "features": int(dense.shape[1] + (0 if sparse is None else sparse.shape[1])),
                       "node_features": self.x_layout is not None}
        if self.rounds == 2:
            filled = fill_unlabelled(seeds, proba)
            second_all = self._with_x(self._aggregate(paths, filled), data)[0]
            fold = label_folds(y[train], self.folds, self.seed)
            problem = fold_problem(y[train], fold)
            if problem and self.cross_fit:
                raise ValueError(f"model 'label-lr' cross_fit=true needs training labels of at "
                                 f"least two classes outside each of its {self.folds} folds; "
                                 f"{problem}")
            # cross_fit none: both, unless the folds cannot be fitted (then not cross-fitted)
            candidates = [self.cross_fit] if self.cross_fit is not None else (
                [False] if problem else [False, True])
            best = None
            for cross in candidates:
                design = second_all
                if cross:  # training rows read the cross-fitted aggregates, the others the full
                    crossed = self._cross_fitted(paths, seeds, data, y, train, fold,
                                                 sample_weight, c_first)
                    design = np.where(train[:, None], crossed, second_all)
                stage, score, c_second, _ = self._fit_chosen(design, sparse, y, train,
                                                             sample_weight, data)
                if best is None or score > best[1]:
                    best = (stage, score, c_second, len(np.unique(fold)) if cross else 0)
            stage, score, c_second, used = best
            self.stages.append(stage)
            proba = stage.proba(second_all, sparse)  # what predict_graph gives, every row
            skipped = problem if self.cross_fit is None else ""
            self.chosen.update({"C_round_2": c_second, "folds": used, "val_macro_f1": score,
                                "cross_fit_skipped": skipped})
        self.fitted_proba = torch.as_tensor(proba, dtype=torch.float)
        return self

    def _fit_chosen(self, dense: np.ndarray, sparse: sp.csr_matrix | None, y: np.ndarray,
                    train: np.ndarray, sample_weight: np.ndarray | None,
                    data: HeteroData) -> tuple[_Stage, float, float, np.ndarray]:
        """``(stage, validation macro-F1, C, probabilities)`` of the best ``C`` (the set one,
        or the first best of :data:`C_VALUES`)."""
        best = None
        for c in C_VALUES if self.C is None else (self.C,):
            stage = _Stage.fit(dense, sparse, y, train, sample_weight, c, self.seed,
                               self.labels.num_classes)
            proba = stage.proba(dense, sparse)
            score = validation_macro_f1(torch.as_tensor(proba), data)
            if best is None or score > best[1]:  # first best wins: deterministic
                best = (stage, score, c, proba)
        return best

    def _cross_fitted(self, paths: list[sp.csr_matrix], seeds: np.ndarray, data: HeteroData,
                      y: np.ndarray, train: np.ndarray, fold: np.ndarray,
                      sample_weight: np.ndarray | None, c: float) -> np.ndarray:
        """The second round's dense columns for the training rows: for the rows of each
        fold (``fold``: one id per training row, in node order), the aggregates of the
        fold-less labels filled with the predictions of a first round fitted without that
        fold (so no row's features carry its own label through a neighbour's
        prediction). Every fold's complement must hold two classes (:func:`fold_problem`)."""
        rows = np.flatnonzero(train)
        out: np.ndarray | None = None
        for k in np.unique(fold):
            held = rows[fold == k]
            kept = train.copy()
            kept[held] = False
            fold_seeds = seeds.copy()
            fold_seeds[held] = 0.0
            dense, sparse = self._with_x(self._aggregate(paths, fold_seeds), data)
            weight = None if sample_weight is None else np.asarray(sample_weight)[fold != k]
            stage = _Stage.fit(dense, sparse, y, kept, weight, c, self.seed,
                               self.labels.num_classes)
            filled = fill_unlabelled(fold_seeds, stage.proba(dense, sparse))
            second = self._with_x(self._aggregate(paths, filled), data)[0]
            out = np.zeros_like(second) if out is None else out
            out[held] = second[held]
        return out

    def predict_graph(self, data: HeteroData) -> Tensor:
        """Class probabilities ``[N, C]`` of ``data``'s target nodes (the kept training
        labels, those whose ids ``data`` has, aggregated over ``data``'s meta-paths; in
        the second round, filled with the first round's probabilities elsewhere)."""
        if not self.stages:
            raise RuntimeError("LabelLogisticRegression: call fit(data) before predict_graph")
        paths, seeds = self._paths(data), self._seeds(data)
        dense, sparse = self._with_x(self._aggregate(paths, seeds), data)
        proba = self.stages[0].proba(dense, sparse)
        for stage in self.stages[1:]:
            dense = self._with_x(self._aggregate(paths, fill_unlabelled(seeds, proba)), data)[0]
            proba = stage.proba(dense, sparse)
        return torch.as_tensor(proba, dtype=torch.float)

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Unpickle, also a one-round model saved before rounds existed (``mean``, ``std``
        and ``classifier`` on the model itself)."""
        if "stages" not in state:
            old = {key: state.pop(key, None) for key in ("mean", "std", "classifier")}
            fitted = old["classifier"] is not None and state.get("labels") is not None
            state["stages"] = [_Stage(old["mean"], old["std"], old["classifier"],
                                      state["labels"].num_classes)] if fitted else []
            state.update(rounds=1, cross_fit=None, folds=5)
        self.__dict__.update(state)

    def description(self) -> str:
        """What the model saw and chose, for the run's summary."""
        c = self.chosen
        if not c:
            return "label-lr (not fitted)"
        labels_part = "training labels" if c["node_features"] else "training labels only"
        own = "node features + " if c["node_features"] else ""
        over = "" if self.neighbours == "all" else ", labelled neighbours only"
        text = (f"{own}{labels_part}, aggregated over {self.hops} meta-path step(s){over} "
                f"({c['features']} features); logistic regression, C {c['C']}")
        if self.rounds == 2:
            how = (f"cross-fitted over {c['folds']} folds" if c["folds"]
                   else "not cross-fitted")
            if c["cross_fit_skipped"]:
                how += f": cross-fitting impossible, {c['cross_fit_skipped']}"
            text += f"; round 2 on the neighbours' predicted classes ({how}), C {c['C_round_2']}"
        return text


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
