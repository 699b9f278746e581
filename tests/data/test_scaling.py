"""Per-node-type standardisation of numeric features."""

import torch
from torch_geometric.data import HeteroData

from hetero_imb.data.scaling import standardize_columns, standardize_features


def test_standardize_by_hand_and_constant_columns_are_centred():
    x = torch.tensor([[0.0, 3.0], [49.0, 3.0], [24.5, 3.0]])
    out = standardize_columns(x)
    assert torch.allclose(out.mean(0), torch.zeros(2), atol=1e-6)
    assert torch.allclose(out[:, 0].std(unbiased=False), torch.tensor(1.0))
    assert torch.equal(out[:, 1], torch.zeros(3))


def test_only_dense_float_features_are_scaled_and_the_input_is_untouched():
    g = HeteroData()
    g["paper"].x = torch.tensor([[0.0], [10.0]])
    g["author"].x = torch.tensor([[1, 2], [3, 4]])  # integers: ids, left alone
    g["word"].x = torch.eye(2).to_sparse()  # sparse: centring would densify it
    g["venue"].num_nodes = 3  # featureless
    out = standardize_features(g)
    assert out["paper"].x.flatten().tolist() == [-1.0, 1.0]
    assert g["paper"].x.flatten().tolist() == [0.0, 10.0]
    assert out["author"].x is g["author"].x and out["word"].x is g["word"].x
    assert list(out.standardized) == ["paper"]


def test_standardize_is_on_by_default_and_no_standardize_turns_it_off():
    from hetero_imb.cli.train import build_parser, config_from_args

    parser = build_parser()
    assert config_from_args(parser.parse_args(["--dataset", "synthetic"])).standardize is True
    off = config_from_args(parser.parse_args(["--dataset", "synthetic", "--no-standardize"]))
    assert off.standardize is False
