import numpy as np
import pytest
import torch

from hetero_imb.params import ParamError, ParamSpec, describe_params, parse_params, validate_params

SPEC = {
    "gamma": ParamSpec("float", 2.0, "focusing", low=0.0),
    "keep": ParamSpec("float", 0.5, "fraction", low=0.0, high=1.0, low_open=True),
    "k": ParamSpec("int", 3, "neighbours", low=1),
    "normalize": ParamSpec("bool", True, "normalise"),
    "mode": ParamSpec("str", "mean", "reduction", choices=("mean", "sum")),
    "rates": ParamSpec("floats", None, "rates"),
    "classes": ParamSpec("strs", None, "classes"),
    "weights": ParamSpec("weights", "balanced", "weights", choices=("balanced", "none")),
}
OWNER = "sampler 'demo'"


def parse(*pairs):
    return parse_params(list(pairs), SPEC, owner=OWNER, flag="--sampler-param")


def test_parse_each_kind():
    assert parse("gamma=1.5", "k=4", "normalize=no", "mode=sum") == {
        "gamma": 1.5,
        "k": 4,
        "normalize": False,
        "mode": "sum",
    }
    assert parse("rates=1,2.5, 3") == {"rates": [1.0, 2.5, 3.0]}
    assert parse("classes=politician,tvshow") == {"classes": ["politician", "tvshow"]}
    assert parse("rates=none") == {"rates": None}
    assert parse("normalize=ON") == {"normalize": True}
    assert parse() == {}


def test_parse_weights_forms():
    assert parse("weights=balanced") == {"weights": "balanced"}
    assert parse("weights=none") == {"weights": "none"}  # not nullable: a scheme
    assert parse("weights=1,2,3,4") == {"weights": [1.0, 2.0, 3.0, 4.0]}
    assert parse("weights=politician:4,tvshow:1") == {"weights": {"politician": 4.0, "tvshow": 1.0}}
    assert parse("weights=0:2") == {"weights": {"0": 2.0}}


@pytest.mark.parametrize(
    ("pair", "match"),
    [
        (
            "gamma=abc",
            r"^sampler 'demo': gamma must be a float >= 0, got 'abc' \(--sampler-param 'gamma=abc'\)$",
        ),
        ("k=2.5", "sampler 'demo': k must be an integer >= 1, got '2.5'"),
        ("normalize=maybe", r"normalize must be a boolean \(true/false\), got 'maybe'"),
        ("mode=max", "mode must be one of mean, sum, got 'max'"),
        ("gamma=-1", "gamma must be a float >= 0, got -1.0"),
        ("keep=0", "keep must be a float > 0 and <= 1, got 0.0"),
        ("keep=1.5", "keep must be a float > 0 and <= 1, got 1.5"),
        ("gamma=nan", "gamma must be a float >= 0, got nan"),
        ("k=none", "k must be an integer >= 1, got 'none'"),
        ("rates=1,,2", "rates must be a comma-separated list of floats or none, got '1,,2'"),
        ("weights=inverse", "weights must be one of balanced, none, a comma-separated list"),
        ("weights=a:x", "'x' in 'a:x' is not a float"),
        ("weights=a:1,a:2", "lists class 'a' twice"),
        ("gamma", r"sampler 'demo': expected name=value, got 'gamma' \(--sampler-param 'gamma'\)"),
        (
            "gama=2",
            r"sampler 'demo' has no parameter 'gama' \(did you mean 'gamma'\?\); accepted parameters: gamma, keep, k",
        ),
    ],
)
def test_parse_errors(pair, match):
    with pytest.raises(ParamError, match=match):
        parse(pair)


def test_parse_duplicates_and_plain_string_refused():
    with pytest.raises(ParamError, match="gamma is given more than once"):
        parse("gamma=1", "gamma=2")
    with pytest.raises(TypeError, match="sequence of 'name=value' strings"):
        parse_params("gamma=1", SPEC, owner=OWNER)


def test_validate_fills_defaults_and_normalises():
    out = validate_params(
        {
            "gamma": 1,
            "rates": np.array([1, 2]),
            "weights": torch.tensor([1.0, 2.0]),
            "classes": ["a", 2],
            "k": np.int64(5),
        },
        SPEC,
        owner=OWNER,
    )
    assert out == {
        "gamma": 1.0,
        "keep": 0.5,
        "k": 5,
        "normalize": True,
        "mode": "mean",
        "rates": [1.0, 2.0],
        "classes": ["a", "2"],
        "weights": [1.0, 2.0],
    }
    assert type(out["gamma"]) is float and type(out["k"]) is int
    assert validate_params({"gamma": "0.5", "weights": {"a": 2, 1: 3}}, SPEC, owner=OWNER)[
        "weights"
    ] == {"a": 2.0, 1: 3.0}


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"gamma": True}, "^sampler 'demo': gamma must be a float >= 0, got True$"),
        ({"k": 1.0}, "^sampler 'demo': k must be an integer >= 1, got 1.0$"),
        ({"k": 0}, "^sampler 'demo': k must be an integer >= 1, got 0$"),
        ({"normalize": 1}, "normalize must be a boolean"),
        ({"gamma": None}, "gamma must be a float >= 0, got None"),
        ({"rates": [1.0, "x"]}, r"rates must be a comma-separated list of floats or none"),
        ({"weights": {"a": "x"}}, "weight of class 'a' must be a finite float"),
        ({"zzz": 1}, "sampler 'demo' has no parameter 'zzz'; accepted parameters"),
    ],
)
def test_validate_errors(params, match):
    with pytest.raises(ParamError, match=match):
        validate_params(params, SPEC, owner=OWNER)


def test_describe_and_bad_kind():
    text = describe_params(SPEC)
    assert "  gamma: float >= 0, default 2.0: focusing" in text.splitlines()
    assert "  mode: str (mean|sum), default mean: reduction" in text.splitlines()
    assert "  keep: float > 0 and <= 1, default 0.5: fraction" in text.splitlines()
    assert describe_params({}) == "  (no parameters)"
    with pytest.raises(ValueError, match="kind must be one of float, int"):
        ParamSpec("complex", 1, "x")


def test_parse_without_flag_quotes_the_pair():
    with pytest.raises(
        ParamError,
        match=r"^sampler 'demo': gamma must be a float >= 0, got 'abc' \(from 'gamma=abc'\)$",
    ):
        parse_params(["gamma=abc"], SPEC, owner=OWNER)


LISTS = {
    "widths": ParamSpec("ints", [10, 10], "neighbours per hop", low=1),
    "shares": ParamSpec("floats", (0.5, 0.5), "class shares", low=0.0, low_open=True),
    "folder": ParamSpec("path", None, "cache folder"),
    "depth": ParamSpec("int", 8, "feature width", low=0, nullable=True),
}


def test_int_lists_paths_and_nullable_with_default():
    from pathlib import Path

    assert parse_params(["widths=5, 3", "folder=/tmp/x", "depth=none"], LISTS, owner=OWNER) == {
        "widths": [5, 3], "folder": "/tmp/x", "depth": None,
    }
    out = validate_params({"widths": np.array([4]), "folder": Path("/tmp/y")}, LISTS, owner=OWNER)
    assert out == {"widths": [4], "shares": (0.5, 0.5), "folder": "/tmp/y", "depth": 8}
    with pytest.raises(ParamError, match=r"widths must be a comma-separated list of integers, each >= 1, got \[3, 0\]"):
        validate_params({"widths": [3, 0]}, LISTS, owner=OWNER)
    with pytest.raises(ParamError, match=r"widths must be .* integers, each >= 1, got '3,x'"):
        validate_params({"widths": "3,x"}, LISTS, owner=OWNER)
    with pytest.raises(ParamError, match=r"shares must be .* floats, each > 0, got \[0.5, 0\]"):
        validate_params({"shares": [0.5, 0]}, LISTS, owner=OWNER)
    with pytest.raises(ParamError, match="folder must be a file or folder path or none, got 3"):
        validate_params({"folder": 3}, LISTS, owner=OWNER)


def test_describe_shows_range_default_as_typed_and_none():
    lines = describe_params(LISTS).splitlines()
    assert "  widths: ints >= 1, default 10,10: neighbours per hop" in lines
    assert "  folder: path or none, default none: cache folder" in lines
    assert "  depth: int >= 0 or none, default 8: feature width" in lines
    assert ParamSpec("bool", False, "x").describe() == "bool, default false: x"


def test_expected_names_type_range_and_choices():
    assert ParamSpec("int", 1, "x", low=1).expected() == "an integer >= 1"
    assert ParamSpec("str", "a", "x", choices=("a", "b")).expected() == "one of a, b"
    assert ParamSpec("floats", None, "x", low=0.0).expected() == (
        "a comma-separated list of floats, each >= 0 or none"
    )
