import pytest

from hetero_imb.training.config import RunConfig, read_yaml, resolve, to_yaml


def test_defaults_file_and_overrides_layer(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("dataset: facebook\nmodel_params: {hidden: 32, dropout: 0.1}\nepochs: 5\n")
    cfg = resolve(read_yaml(path), model="gcn", model_params={"hidden": 16}, epochs=None)
    assert cfg.dataset == "facebook"  # from the file
    assert cfg.model == "gcn"  # flag wins
    assert cfg.epochs == 5  # None = not given
    assert cfg.model_params == {"hidden": 16, "dropout": 0.1}  # merged key by key
    assert cfg.loss == RunConfig().loss  # default


def test_unknown_key_names_it_and_lists_accepted(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("datset: facebook\n")
    with pytest.raises(ValueError, match=r"unknown key\(s\) datset in config file; accepted keys: dataset"):
        resolve(read_yaml(path))


def test_bad_yaml_files(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        read_yaml(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("- a\n- b\n")
    with pytest.raises(ValueError, match="must hold a mapping"):
        read_yaml(bad)


def test_yaml_round_trip(tmp_path):
    cfg = RunConfig(dataset="facebook", model_params={"hidden": 8}, num_neighbors=[5, 5])
    path = tmp_path / "r.yaml"
    path.write_text(to_yaml(cfg))
    assert resolve(read_yaml(path)) == cfg
