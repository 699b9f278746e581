"""Signs that a run collapsed instead of learning, reported as warnings.

A collapsed run looks like a verdict on the method (a macro-F1 of 1/C) when it is a
training failure: the model predicts one class for every node, or the training loss sits
at ``ln C`` (the cross-entropy of uniform predictions) at the end of training. Near-
uniform *probabilities* alone are not flagged: a model restored from an early best
epoch can be under-confident and still rank the classes well (SeHGNN on Freebase
heco:20: mean top probability 0.338 for 3 classes, test macro-F1 0.52).
:func:`collapse_warnings` finds both, and :func:`first_epoch_warnings` a run whose kept
weights are those of its first epoch (the validation score never improved on a model
one step from its initialisation), and :func:`untrained_class_warnings` a class with no
training label at all (no model can learn it). The runner logs each one as a ``logging`` warning
and stores them in ``RunResult.warnings`` (``results.json`` → ``warnings``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

__all__ = ["chance_floor", "chance_macro_f1", "collapse_warnings", "first_epoch_warnings",
           "untrained_class_warnings"]

#: The loss counts as stuck at chance when each of the last FLAT_EPOCHS epochs is
#: within FLAT_TOLERANCE x ln C of ln C.
FLAT_EPOCHS = 10
FLAT_TOLERANCE = 0.03


def chance_macro_f1(y: Tensor, num_classes: int) -> float:
    """Macro-F1 expected from guessing each node's class uniformly at random.

    For a class of share ``p`` among the labels ``y``, a uniform guess has expected
    precision ``p`` and recall ``1/C``, so F1 ``2 p (1/C) / (p + 1/C)``; the mean over
    the ``C`` classes is the chance level of macro-F1 (``1/C`` when balanced); see
    :func:`chance_floor` for the band around it that early stopping uses.

    Args:
        y: Class indices ``[N]`` (negative entries are ignored). Multi-hot labels
            ``[N, C]`` (multi-label) get no floor (0.0): there, a run that learns
            nothing predicts no label at all, which the collapse warning reports.
        num_classes: Number of classes ``C``.

    Returns:
        The chance level (0.0 when ``y`` has no labelled entry).

    Example:
        >>> import torch
        >>> round(chance_macro_f1(torch.tensor([0, 1, 2, 0, 1, 2]), 3), 4)
        0.3333
        >>> round(chance_macro_f1(torch.tensor([0, 0, 0, 1]), 2), 4)
        0.4667
    """
    y = y[y >= 0]
    if y.numel() == 0 or num_classes < 1:
        return 0.0
    share = y.bincount(minlength=num_classes).double() / y.numel()
    guess = 1.0 / num_classes
    return float((2 * share * guess / (share + guess)).mean())


def chance_floor(y: Tensor, num_classes: int, draws: int = 200, sds: float = 2.0) -> float:
    """Highest macro-F1 that uniform random guessing plausibly reaches on labels ``y``:
    mean + ``sds`` standard deviations over ``draws`` seeded guesses.

    Early stopping (:class:`~hetero_imb.training.engine.EarlyStopping`) counts no
    patience while its best validation score is at or below this floor: an untrained
    model's predictions are such a guess, and its lucky peaks (0.276-0.326 on
    Freebase's 1,000 validation movies, expected chance level 0.322) must not start
    the countdown. The band narrows with more labels.

    Args:
        y: Class indices ``[N]`` (negative entries are ignored). Multi-hot labels
            ``[N, C]`` (multi-label) get no floor (0.0): there, a run that learns
            nothing predicts no label at all, which the collapse warning reports.
        num_classes: Number of classes ``C``.
        draws: Number of random guesses (seeded: the result is deterministic).
        sds: Standard deviations above the mean.

    Returns:
        The floor (0.0 when ``y`` has no labelled entry).

    Example:
        >>> import torch
        >>> y = torch.tensor([0] * 388 + [1] * 173 + [2] * 439)
        >>> 0.33 < chance_floor(y, 3) < 0.36
        True
    """
    if y.dim() == 2:
        return 0.0
    y = y[y >= 0].cpu()
    if y.numel() == 0 or num_classes < 1:
        return 0.0
    gen = torch.Generator().manual_seed(0)
    # guesses in chunks of at most ~2M entries: 200 draws over a 200k-node validation
    # set would otherwise hold 40M int64s (320 MB) at the start of every fit
    chunk = max(1, 2_000_000 // y.numel())
    scores = []
    for start in range(0, draws, chunk):
        guess = torch.randint(num_classes, (min(chunk, draws - start), y.numel()), generator=gen)
        f1 = torch.zeros(guess.size(0), dtype=torch.float64)
        for c in range(num_classes):
            actual, predicted = y == c, guess == c
            tp = (predicted & actual).sum(1).double()
            denom = predicted.sum(1).double() + float(actual.sum())
            f1 += 2 * tp / denom.clamp(min=1)
        scores.append(f1 / num_classes)
    f1 = torch.cat(scores)
    return float(f1.mean() + sds * f1.std())


def collapse_warnings(
    history: Sequence[dict[str, Any]],
    proba: Tensor,
    mask: Tensor,
    class_names: Sequence[str],
    y: Tensor | None = None,
) -> list[str]:
    """Warnings for a collapsed run (empty list when it looks healthy).

    Args:
        history: One dict per epoch with a ``"loss"`` (empty for feature baselines).
        proba: Class probabilities of every target node ``[N, C]``.
        mask: The nodes to judge the predictions on (e.g. labelled val + test nodes).
        class_names: Class names, index = class id.
        y: Class ids of every node; with them, classes the model never predicts
            among the evaluated nodes of those classes are named too.

    Returns:
        One line per symptom: a single predicted class, classes never predicted (the
        rare classes a model "ignores"), a training loss stuck at ``ln C`` (uniform
        predictions).

    Example:
        >>> import torch
        >>> proba = torch.tensor([[0.6, 0.4], [0.7, 0.3]])
        >>> collapse_warnings([], proba, torch.tensor([True, True]), ["a", "b"])
        ["collapsed run: the model predicts the single class 'a' for all 2 evaluated nodes"]
    """
    out: list[str] = []
    n_classes = len(class_names)
    pred = proba[mask].argmax(-1)
    if n_classes > 1 and pred.numel() > 1 and bool((pred == pred[0]).all()):
        out.append(
            f"collapsed run: the model predicts the single class {class_names[int(pred[0])]!r} "
            f"for all {pred.numel()} evaluated nodes"
        )
    elif y is not None and pred.numel() > 1:
        truth = y[mask]
        support = torch.bincount(truth[truth >= 0], minlength=n_classes)
        predicted = torch.bincount(pred, minlength=n_classes)
        ignored = [c for c in range(n_classes) if support[c] > 0 and predicted[c] == 0]
        if ignored:
            names = ", ".join(repr(class_names[c]) for c in ignored)
            counts = ", ".join(str(int(support[c])) for c in ignored)
            out.append(
                f"ignored classes: at argmax the model never predicts {names} ({counts} of the "
                f"{pred.numel()} evaluated nodes are of them); try a balancing loss "
                "(weighted, balanced-softmax) or --tune-decision balanced-accuracy"
            )
    losses = [float(h["loss"]) for h in history if "loss" in h][-FLAT_EPOCHS:]
    chance = math.log(n_classes) if n_classes > 1 else 0.0
    if len(losses) == FLAT_EPOCHS and chance and all(
        abs(v - chance) <= FLAT_TOLERANCE * chance for v in losses
    ):
        out.append(
            f"collapsed run: the training loss stayed at ln C = {chance:.4f} (uniform "
            f"prediction) over the last {FLAT_EPOCHS} epochs; check feature scales "
            "(standardize), the learning rate and the number of epochs"
        )
    return out


def first_epoch_warnings(history: Sequence[dict[str, Any]], best_epoch: int | None) -> list[str]:
    """A warning when a neural run of several epochs kept the weights of epoch 1.

    Its validation score never rose above that of a model one optimiser step from its
    initialisation, so the run most likely learned nothing usable. On multi-label long
    tails this is what plain ``bce`` does: the trained model never predicts a rare label
    at 0.5, and the near-initial one, predicting every label about half the time, scores
    a higher macro-F1 at 0.5 (docs/case_studies.md, IMDB).

    Args:
        history: One dict per epoch with ``epoch`` and ``val_macro_f1`` (NaN on epochs
            without an evaluation; empty for the feature baselines: no warning).
        best_epoch: The epoch whose weights were kept.

    Returns:
        An empty list, or one line.

    Example:
        >>> history = [{"epoch": e, "val_macro_f1": 0.3} for e in range(1, 31)]
        >>> first_epoch_warnings(history, 1)[0][:38]
        'untrained model kept: epoch 1 of 30 ha'
        >>> first_epoch_warnings(history, 12)
        []
    """
    evaluated = [int(h["epoch"]) for h in history
                 if isinstance(h.get("val_macro_f1"), int | float) and math.isfinite(h["val_macro_f1"])]
    if len(evaluated) < 2 or best_epoch != evaluated[0]:  # (--eval-every: first evaluation)
        return []
    return [
        f"untrained model kept: epoch {best_epoch} of {len(history)} had the best validation "
        "score (the first evaluation), so "
        "the weights one step from initialisation were restored; raise the learning rate or "
        "epochs, or (multi-label) use weighted-bce and --tune-decision macro-f1"
    ]


def untrained_class_warnings(y: Tensor, train: Tensor, class_names: Sequence[str]) -> list[str]:
    """A warning per class (or label) without one labelled training node.

    A split given by the user (``split="given"``) or a small class after imbalance can
    leave a class out of training; every model then scores it at zero recall, which
    looks like a verdict on the method.

    Args:
        y: Class ids ``[N]`` (``-1`` unlabelled) or multi-hot labels ``[N, C]``.
        train: The training mask ``[N]``.
        class_names: Class names, index = class id.

    Example:
        >>> y = torch.tensor([0, 0, 1, 2, -1])
        >>> train = torch.tensor([True, True, True, False, True])
        >>> untrained_class_warnings(y, train, ["a", "b", "c"])[0][:46]
        "class 'c' has no labelled training node: no mo"
        >>> untrained_class_warnings(y, torch.ones(5, dtype=torch.bool), ["a", "b", "c"])
        []
    """
    names = list(class_names)
    if y.dim() == 2:
        rows = train & (y >= 0).all(dim=1)
        counts, total = (y[rows] > 0.5).sum(dim=0), (y[(y >= 0).all(dim=1)] > 0.5).sum(dim=0)
    else:
        rows = train & (y >= 0)
        counts = torch.bincount(y[rows], minlength=len(names))
        total = torch.bincount(y[y >= 0], minlength=len(names))
    out = []
    for c in torch.nonzero(counts == 0).flatten().tolist():
        elsewhere = int(total[c])
        out.append(f"class {names[c]!r} has no labelled training node: no model can learn it "
                   f"(its recall will be 0); {elsewhere} labelled node"
                   f"{'' if elsewhere == 1 else 's'} of it lie{'s' if elsewhere == 1 else ''} "
                   "outside training")
    return out
