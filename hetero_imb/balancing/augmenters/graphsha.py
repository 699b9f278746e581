"""``graphsha``: harder minor samples (Li et al., "GraphSHA: Synthesizing Harder Samples
for Class-Imbalanced Node Classification", KDD 2023).

Before every training step each class below the mean training count (``target=mean``;
``max``: the largest) is filled up with synthetic nodes (machinery and heterograph
rules: :mod:`.synthesis`). With ``q`` the current class probabilities sharpened or
flattened by ``tau`` (``q ∝ p^(1/tau)``, i.e. ``softmax(logits / tau)``), for a
synthetic node of class ``c``:

* source ``s`` (an *anchor*): a training node of ``c``, with probability
  proportional to ``1 - q_sc`` (the harder, the likelier);
* partner ``d`` (the *auxiliary* node, the nearest other class): a class ``c'`` drawn
  from ``q_s`` with ``c`` zeroed, then a training node of ``c'`` with probability
  proportional to ``q_dc`` (the ones closest to ``c``);
* rows: ``lam * row[s] + (1 - lam) * row[d]``, ``lam ~ Beta(beta_a, beta_b)``
  (default ``Beta(1, 100)``: the synthetic node sits near the partner, on the far side
  of the boundary — a hard sample labelled ``c``);
* neighbours (SemiMixup): per relation into the target type, ``deg`` = the in-degree
  of a random *training* node capped at the source's, drawn without replacement from
  the source's in-neighbours only, so the synthetic node's messages come from ``c``'s
  1-hop subgraph and the enlarged minor region does not spread into the partner's
  class through the graph;
* label: ``c``.

Departures, to fit every model of the zoo: the predictions are the loop's evaluation
probabilities after the previous epoch; on a featureless target type the synthetic
node reads the source's learned embedding, so only the sampled 1-hop subgraph differs
from the source (oversampling with neighbour subsampling). Full-batch only.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ...params import ParamSpec
from .base import register_augmenter
from .synthesis import Synthesis, SynthesisAugmenter

__all__ = ["GraphSHAAugmenter"]


@register_augmenter(
    "graphsha",
    summary="GraphSHA: hard minor samples mixed towards the nearest other class, "
    "neighbours from the source's 1-hop subgraph, every step (full-batch only: drawn "
    "from full-graph predictions and appended to the whole graph)",
)
class GraphSHAAugmenter(SynthesisAugmenter):
    """Harder minor samples with SemiMixup (see the module docstring)."""

    params = {
        "tau": ParamSpec("float", 2.0, "temperature of the predictions used for sampling",
                         low=0.0, low_open=True),
        "target": ParamSpec("str", "mean", "fill each class up to the mean or the largest "
                            "training count", choices=("mean", "max")),
        "beta_a": ParamSpec("float", 1.0, "lam ~ Beta(beta_a, beta_b), weight of the "
                            "source's rows", low=0.0, low_open=True),
        "beta_b": ParamSpec("float", 100.0, "second Beta parameter", low=0.0, low_open=True),
        "warmup": ParamSpec(
            "int", 0, "epochs trained on the plain graph after the first one", low=0
        ),
    }

    def pairs(self, proba: Tensor) -> tuple[Tensor, Tensor]:
        """``(source, partner)`` of every synthetic node of one step."""
        q = proba[self.train_idx].clamp_min(0) ** (1 / self.params_["tau"])
        q = q / q.sum(1, keepdim=True).clamp_min(1e-12)
        local = [torch.nonzero(self.y_train == c).flatten() for c in range(self.n_classes)]
        empty = torch.tensor([m.numel() == 0 for m in local])
        goal = float(self.counts.max() if self.params_["target"] == "max"
                     else self.counts.sum() / self.n_classes)
        srcs, dsts = [], []
        for c, members in enumerate(local):
            num = int(goal - int(self.counts[c]))
            if num <= 0 or members.numel() == 0:
                continue
            src = members[torch.multinomial(1 - q[members, c] + 1e-12, num, replacement=True,
                                            generator=self.generator)]
            conf = q[src].clone()
            conf[:, c] = 0
            conf[:, empty] = 0
            other = torch.multinomial(conf + 1e-12 * ~empty, 1, generator=self.generator)[:, 0]
            dst = torch.empty_like(src)
            for c2 in other.unique().tolist():
                sel = other == c2
                dst[sel] = local[c2][torch.multinomial(q[local[c2], c] + 1e-12, int(sel.sum()),
                                                       replacement=True, generator=self.generator)]
            srcs.append(src)
            dsts.append(dst)
        if not srcs:
            return torch.empty(0, dtype=torch.long), torch.empty(0, dtype=torch.long)
        return self.train_idx[torch.cat(srcs)], self.train_idx[torch.cat(dsts)]

    def draw(self, proba: Tensor) -> Synthesis:
        src, dst = self.pairs(proba)
        lam = torch.from_numpy(self.rng.beta(self.params_["beta_a"], self.params_["beta_b"],
                                             src.numel())).float()
        ones = torch.ones(src.numel())
        edges = self.incoming_edges(src, dst, ones, torch.zeros_like(ones), self.train_idx)
        return Synthesis(src, dst, lam, {}, edges)
