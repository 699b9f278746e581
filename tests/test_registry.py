import pytest

from hetero_imb.registry import Registry, UnknownComponentError


def test_register_get_and_names():
    reg = Registry("widget")

    @reg.register("a")
    class A:
        """First widget."""

    reg.register("b", int, summary="second")
    assert reg.get("a") is A
    assert reg.names() == ["a", "b"]
    assert reg.summary("a") == "First widget."
    assert reg.summary("b") == "second"
    assert "a" in reg and "z" not in reg


def test_unknown_name_lists_choices():
    reg = Registry("widget")
    reg.register("a", int)
    with pytest.raises(UnknownComponentError, match=r"unknown widget 'zz' for '--widget'.*a"):
        reg.get("zz", parameter="--widget")


def test_duplicate_registration_refused():
    reg = Registry("widget")
    reg.register("a", int)
    with pytest.raises(ValueError, match="already registered"):
        reg.register("a", float)
    reg.register("a", float, overwrite=True)
    assert reg.get("a") is float


def test_name_of_finds_the_registered_name():
    reg = Registry("widget")
    reg.register("a", int)
    assert reg.name_of(int) == "a" and reg.name_of(float) is None


def test_every_registry_names_its_kind_in_errors():
    import hetero_imb as hi
    from hetero_imb.data.imbalance import PROFILES

    registries = {"dataset": hi.DATASETS, "model": hi.MODELS, "loss": hi.LOSSES,
                  "sampler": hi.SAMPLERS, "smoother": hi.SMOOTHERS, "imbalance profile": PROFILES}
    for kind, reg in registries.items():
        assert reg.kind == kind
        with pytest.raises(UnknownComponentError, match=rf"^unknown {kind} 'nope' for "):
            reg.get("nope")
        first = reg.names()[0]
        with pytest.raises(ValueError, match=rf"^{kind} '{first}' is already registered"):
            reg.register(first, object())
        with pytest.raises(ValueError, match=rf"^{kind} name must be a non-empty string"):
            reg.register("", object())


def _knob_registry():
    from hetero_imb.params import ParamSpec

    reg = Registry("widget")

    @reg.register("knob")
    class Knob:
        """A knob."""

        params = {
            "turns": ParamSpec("int", 3, "how far it turns", low=1),
            "colour": ParamSpec("str", "red", "its colour", choices=("red", "blue")),
        }

    reg.register("plain", int, summary="no options")
    return reg


def test_params_validate_parse_and_describe_for_any_kind():
    from hetero_imb.params import ParamError

    reg = _knob_registry()
    assert list(reg.params("knob")) == ["turns", "colour"]
    assert reg.params("plain") == {}
    assert reg.owner("knob") == "widget 'knob'"
    assert reg.validate("knob", {"turns": "5"}) == {"turns": 5, "colour": "red"}
    assert reg.validate("plain") == {}
    assert reg.parse("knob", ["colour=blue"], flag="--widget-param") == {"colour": "blue"}
    assert "    turns: int >= 1, default 3: how far it turns" in reg.describe("knob").splitlines()
    with pytest.raises(ParamError, match=r"^widget 'knob': turns must be an integer >= 1, got 0$"):
        reg.validate("knob", {"turns": 0})
    with pytest.raises(
        ParamError,
        match=r"^widget 'knob' has no parameter 'turn' \(did you mean 'turns'\?\); "
        r"accepted parameters: turns, colour$",
    ):
        reg.validate("knob", {"turn": 2})
    with pytest.raises(ParamError, match=r"^widget 'plain' has no parameter 'x'; accepted parameters: \(none\)$"):
        reg.validate("plain", {"x": 1})
    with pytest.raises(UnknownComponentError, match="unknown widget 'nope' for '--widget'"):
        reg.validate("nope", {}, parameter="--widget")


def test_registration_refuses_malformed_params():
    reg = Registry("widget")

    class Bad:
        params = {"turns": 3}

    with pytest.raises(TypeError, match=r"widget 'bad': params must map names to ParamSpec, got 'turns': int"):
        reg.register("bad", Bad)
    assert "bad" not in reg


@pytest.mark.parametrize("kind", ["dataset", "model", "loss", "sampler"])
def test_every_registered_component_declares_paramspecs(kind):
    from hetero_imb.cli.common import COMPONENT_KINDS
    from hetero_imb.params import ParamSpec

    registry = next(r for r, _, _ in COMPONENT_KINDS if r.kind == kind)
    for name in registry:
        params = registry.params(name)
        assert all(isinstance(p, ParamSpec) for p in params.values()), name
        # the declared defaults are themselves valid values
        defaults = {k: p.default for k, p in params.items()}
        assert list(registry.validate(name, defaults)) == list(params), name
