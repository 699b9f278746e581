"""``graphens``: ego-network synthesis of minor nodes (Park et al., "GraphENS:
Neighbor-Aware Ego Network Synthesis for Class-Imbalanced Node Classification", ICLR 2022).

Before every training step each class is filled up to the largest training class with
synthetic nodes (machinery and heterograph rules: :mod:`.synthesis`). For the
synthetic node ``k``:

* source ``s_k``: a training node of the class, uniformly; partner ``d_k``: any
  training node, with probability proportional to ``log(n_c) / n_c`` of its class ``c``;
* ``KL_k = KL(p_s || p_d)`` between the current class probabilities (clipped at 0);
* neighbours, per relation into the target type: ``deg_k`` = the in-degree of a random
  target node capped at the source's, drawn without replacement from
  ``sigmoid(KL_k) * dist(s_k) + (1 - sigmoid(KL_k)) * dist(d_k)`` (``dist``: uniform
  over a node's in-neighbours) — the further apart the two predictions, the more the
  neighbours come from the source's ego network;
* rows: ``lam * row[s] + (1 - lam) * row[d]`` with ``lam ~ Beta(mix_alpha, mix_alpha)``,
  except on the features kept from the source: of ``K = int(F * keep_prob)`` features
  drawn without replacement with probability proportional to the partner's saliency
  (the absolute gradient of the previous step's loss with respect to its input row),
  the first ``max(1, int(sigmoid(KL_k / 3) * K))``;
* label: the source's.

Departures from the paper's code, each to fit every model of the zoo: the predictions
are the loop's evaluation probabilities after the previous epoch (not the previous
training forward pass propagated once more over the graph); the saliency is taken for
every dense per-node input the encoder reads on the target type (``x``, MLP rows,
metapath2vec embeddings); a featureless target type mixes only the neighbourhood (the
synthetic node reads the source's learned embedding). Full-batch only.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ...params import ParamSpec
from .base import register_augmenter
from .synthesis import Synthesis, SynthesisAugmenter

__all__ = ["GraphENSAugmenter"]


@register_augmenter(
    "graphens",
    summary="GraphENS: synthesise minor nodes by mixing ego networks (saliency-masked "
    "features, mixed neighbour distribution), every step (full-batch only: drawn from "
    "full-graph predictions and appended to the whole graph)",
)
class GraphENSAugmenter(SynthesisAugmenter):
    """Neighbour-aware ego-network synthesis (see the module docstring)."""

    params = {
        "keep_prob": ParamSpec(
            "float", 0.3, "share of the features drawn by saliency as candidates to keep "
            "from the source node", low=0.0, high=1.0,
        ),
        "mix_alpha": ParamSpec(
            "float", 2.0, "feature mixing weight lam ~ Beta(mix_alpha, mix_alpha)",
            low=0.0, low_open=True,
        ),
        "warmup": ParamSpec(
            "int", 0, "epochs trained on the plain graph after the first one", low=0
        ),
    }
    uses_saliency = True

    def pairs(self) -> tuple[Tensor, Tensor]:
        """``(source, partner)`` of every synthetic node of one step."""
        need = self.counts.max() - self.counts
        src = [m[torch.randint(m.numel(), (int(k),), generator=self.generator)]
               for m, k in zip(self.members, need.tolist(), strict=True) if k > 0 and m.numel()]
        src = torch.cat(src) if src else torch.empty(0, dtype=torch.long)
        n_class = self.counts[self.y_train].double()
        weight = torch.log(n_class) / n_class
        if float(weight.sum()) <= 0:
            weight = torch.ones_like(weight)
        pick = torch.multinomial(weight, max(src.numel(), 1), replacement=True,
                                 generator=self.generator)[: src.numel()]
        return src, self.train_idx[pick]

    def draw(self, proba: Tensor) -> Synthesis:
        src, dst = self.pairs()
        lam = torch.from_numpy(self.rng.beta(self.params_["mix_alpha"],
                                             self.params_["mix_alpha"], src.numel())).float()
        p_src, p_dst = proba[src].clamp_min(1e-12), proba[dst].clamp_min(1e-12)
        kl = (p_src * (p_src.log() - p_dst.log())).sum(1).clamp_min(0)
        ratio = torch.sigmoid(kl)
        edges = self.incoming_edges(src, dst, ratio, 1 - ratio, torch.arange(self.n_nodes))
        keep = self.saliency_masks(dst, torch.sigmoid(kl / 3))
        return Synthesis(src, dst, lam, keep, edges)
