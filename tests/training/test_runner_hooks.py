"""The runner names no component: models plug in through hooks on their own specs, and
every option is checked by the registries before any data is loaded."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest
import torch

from hetero_imb.models import MODELS, FitOutput, ModelSpec
from hetero_imb.models.base import COMMON_PARAMS, fit_in_loop
from hetero_imb.models.estimator import class_weight_sample_weights, no_sample_weights
from hetero_imb.params import ParamError, ParamSpec
from hetero_imb.training import runner
from hetero_imb.training.config import RunConfig
from hetero_imb.training.runner import run, validate_names

RUNNER = Path(runner.__file__)


def test_runner_source_names_no_component_and_no_kind():
    tree = ast.parse(RUNNER.read_text(encoding="utf-8"))
    attributes = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    assert "kind" not in attributes
    strings = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    for name in MODELS.names() + ["ce", "weighted", "focal", "oversample-random", "cache_dir"]:
        assert name not in strings, name


@pytest.fixture
def constant_model():
    """A model fitted by its own hook (every node gets the training prior)."""
    calls = {}

    def prepare(settings, config):
        calls["prepared"] = (dict(settings), config.root)
        return {**settings, "strength": settings["strength"] * 2}

    def fit_prior(data, context):
        calls["settings"] = context.settings
        y = data[data.target_node_type].y
        prior = torch.bincount(y[data[data.target_node_type].train_mask], minlength=4).float()
        proba = (prior / prior.sum()).expand(len(y), -1).clone()
        return FitOutput(proba=proba, history=[], best_epoch=0, fit_seconds=0.0, epochs=1,
                         features="none at all")

    spec = ModelSpec(
        builder=lambda data, **kw: None,
        params={"strength": ParamSpec("float", 1.0, "how strongly", low=0.0)},
        fit=fit_prior, losses={"ce": None}, samplers=("none",), prepare_params=prepare,
    )
    MODELS.register("prior-test", spec)
    try:
        yield calls
    finally:
        MODELS.unregister("prior-test")


def test_a_model_plugs_in_through_its_own_hooks(toy_graph, constant_model, tmp_path):
    config = RunConfig(dataset="toy", model="prior-test", model_params={"strength": "3"},
                       root=str(tmp_path))
    result = run(config, data=toy_graph)
    assert constant_model["prepared"] == ({"strength": 3.0}, str(tmp_path))
    assert constant_model["settings"] == {"strength": 6.0}
    assert result.features == "none at all"
    assert result.timing["epochs"] == 1
    assert 0.0 < result.metrics["test"]["accuracy"] < 1.0
    with pytest.raises(ValueError, match="^model 'prior-test' supports loss 'ce', got 'focal'$"):
        run(config.replace(loss="focal"), data=toy_graph)
    with pytest.raises(ParamError, match="^model 'prior-test': strength must be a float >= 0, got -1$"):
        run(config.replace(model_params={"strength": -1}), data=toy_graph)


@pytest.mark.parametrize(
    ("changes", "error", "match"),
    [
        ({"dataset_options": {"num_itemz": 5}}, ParamError,
         r"^dataset 'synthetic' has no parameter 'num_itemz' \(did you mean 'num_items'\?\)"),
        ({"model_params": {"hiden": 8}}, ParamError,
         r"^model 'rgcn' has no parameter 'hiden' \(did you mean 'hidden'\?\)"),
        ({"model_params": {"hidden": 0}}, ParamError, r"^model 'rgcn': hidden must be an integer >= 1, got 0$"),
        ({"loss": "focal", "loss_params": {"gamma": -1}}, ParamError,
         r"^loss 'focal': gamma must be a float >= 0, got -1$"),
        ({"sampler": "undersample", "sampler_params": {"target_ratio": 0}}, ParamError,
         r"^sampler 'undersample': target_ratio must be a float > 0"),
        ({"model": "xgboost", "loss": "focal"}, ValueError,
         r"^model 'xgboost' supports loss 'ce' or 'weighted' or 'bce' or "
         r"'weighted-bce', got 'focal'$"),
    ],
)
def test_every_option_is_checked_before_loading(changes, error, match):
    with pytest.raises(error, match=match):
        validate_names(RunConfig(dataset="synthetic").replace(**changes))


def test_metapath2vec_caches_under_the_runs_data_root(toy_graph, tmp_path):
    config = RunConfig(
        dataset="toy", model="metapath2vec", epochs=1, root=str(tmp_path),
        model_params={"embedding_dim": 8, "walks_per_node": 1, "embedding_epochs": 1,
                      "hidden": 8, "progress": False},
    )
    run(config, data=toy_graph)
    assert len(list((tmp_path / "processed" / "embeddings").glob("metapath2vec-*.pt"))) == 1


def test_estimator_sample_weights_follow_the_weighted_loss():
    y = np.array([0, 0, 0, 1])
    assert no_sample_weights({}, y, [3, 1], ["a", "b"]) is None
    balanced = class_weight_sample_weights({}, y, [3, 1], ["a", "b"])
    assert balanced[3] == pytest.approx(3 * balanced[0])
    manual = class_weight_sample_weights({"weights": "a:1,b:5"}, y, [3, 1], ["a", "b"])
    assert manual.tolist() == [1.0, 1.0, 1.0, 5.0]


def test_default_hook_and_common_settings():
    spec = ModelSpec(builder=lambda data, **kw: None)
    assert spec.fit is fit_in_loop and spec.losses is None and spec.samplers is None
    assert list(spec.params) == list(COMMON_PARAMS)
    spec.check_components("any", loss="whatever", sampler="whatever")
