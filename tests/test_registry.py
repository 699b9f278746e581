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
