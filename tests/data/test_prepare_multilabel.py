"""The run's data preparation (training.runner.prepare_data) on multi-label graphs: imdb
loaded, imbalanced, split and validated for training."""

from __future__ import annotations

import pytest
import torch

from hetero_imb.data.datasets import load
from hetero_imb.data.graph import class_counts, is_multilabel, split_mask
from hetero_imb.data.validate import validate_graph
from hetero_imb.training.runner import prepare_data


@pytest.fixture(scope="module")
def imdb(tmp_path_factory):
    from hetero_imb import paths

    if not any((m / "imdb" / "movie_metadata.csv").is_file() for m in paths.mirror_dirs()):
        pytest.skip("local mirror has no imdb/movie_metadata.csv")
    return load("imdb", root=tmp_path_factory.mktemp("data"))


@pytest.mark.parametrize(
    ("options", "kind"),
    [({}, "stratified"), ({"imbalance": "step:10", "imbalance_mode": "mask"}, "stratified"),
     ({"imbalance": "longtail:20", "imbalance_mode": "drop"}, "stratified"),
     ({"split": "kfold:5:2"}, "kfold")],
)  # fmt: skip
def test_prepare_data_on_imdb(imdb, options, kind):
    data = prepare_data(imdb, seed=0, **options)
    assert is_multilabel(data) and data.split["kind"] == kind
    validate_graph(data, for_training=True)
    x = data["movie"].x
    if options.get("imbalance_mode") != "drop":  # drop removes nodes after scaling
        assert torch.allclose(x.mean(dim=0), torch.zeros(x.size(1)), atol=1e-4)  # standardised
    else:
        assert data["movie"].num_nodes < imdb["movie"].num_nodes
    train = class_counts(data, split_mask(data, "train"))
    assert len(train) == 5 and min(train) > 0
    if options.get("imbalance"):
        assert data.imbalance["counts_after"][1] <= data.imbalance["counts_before"][1]
        assert min(data.imbalance["counts_after"]) < min(data.imbalance["counts_before"])
