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
                  "sampler": hi.SAMPLERS, "imbalance profile": PROFILES}
    for kind, reg in registries.items():
        assert reg.kind == kind
        with pytest.raises(UnknownComponentError, match=rf"^unknown {kind} 'nope' for "):
            reg.get("nope")
        first = reg.names()[0]
        with pytest.raises(ValueError, match=rf"^{kind} '{first}' is already registered"):
            reg.register(first, object())
        with pytest.raises(ValueError, match=rf"^{kind} name must be a non-empty string"):
            reg.register("", object())
