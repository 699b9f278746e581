"""Dataset options are declared as ParamSpec and checked by ``load`` before any work,
with the same message form as every other component."""

import pytest

from hetero_imb.data.datasets import DATASETS, load
from hetero_imb.data.datasets.synthetic import SyntheticLoader
from hetero_imb.params import ParamError


def test_every_loader_declares_its_options():
    assert list(DATASETS.params("synthetic")) == [
        "num_items", "class_weights", "num_users", "num_tags", "item_features", "homophily", "seed",
        "num_classes", "imbalance_ratio", "user_degree", "tag_degree", "extra_types",
    ]
    assert list(DATASETS.params("facebook")) == ["features", "svd_dim", "seed"]
    assert DATASETS.params("freebase") == {} and DATASETS.params("freebase-hgb") == {}


def test_unknown_option_lists_every_accepted_one_with_a_suggestion(tmp_path):
    with pytest.raises(
        ParamError,
        match=r"^dataset 'synthetic' has no parameter 'num_itemz' \(did you mean 'num_items'\?\); "
        r"accepted parameters: num_items, class_weights, num_users, num_tags, item_features, "
        r"homophily, seed, num_classes, imbalance_ratio, user_degree, tag_degree, extra_types$",
    ):
        load("synthetic", root=tmp_path, num_itemz=100)


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"num_items": 0}, r"^dataset 'synthetic': num_items must be an integer >= 1, got 0$"),
        ({"homophily": 1.5}, r"homophily must be a float >= 0 and <= 1, got 1.5"),
        ({"class_weights": "0.5,0"}, r"class_weights must be a comma-separated list of floats, each > 0"),
        ({"item_features": "x"}, r"item_features must be an integer >= 0 or none, got 'x'"),
    ],
)
def test_bad_values_name_dataset_parameter_expected_and_given(tmp_path, options, match):
    with pytest.raises(ParamError, match=match):
        load("synthetic", root=tmp_path, **options)
    assert not (tmp_path / "processed").exists()


def test_options_are_converted_like_the_command_line(tmp_path):
    data = load("synthetic", root=tmp_path, num_items="60", class_weights="0.5,0.5",
                item_features="none")
    assert data["item"].num_nodes == 60
    assert len(data.class_names) == 2
    assert "x" not in data["item"]


def test_a_loader_built_directly_checks_the_same_declaration():
    assert SyntheticLoader(num_items=40).resolved_options()["num_items"] == 40
    with pytest.raises(ParamError, match=r"^dataset 'synthetic': seed must be an integer >= 0 and < 2\*\*63, got -1$"):
        SyntheticLoader(seed=-1).resolved_options()
