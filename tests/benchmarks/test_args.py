"""benchmarks/_args.py: the argument types and checks the benchmark scripts share."""

from __future__ import annotations

import argparse

import pytest

from hetero_imb.balancing.losses import LOSSES


@pytest.fixture
def args(script):
    return script("_args")


@pytest.mark.parametrize("kind, text, value", [
    ("positive_int", "3", 3), ("non_negative_int", "0", 0), ("positive_float", "0.5", 0.5),
    ("non_negative_float", "0", 0.0),
])
def test_number_types_accept(args, kind, text, value):
    assert getattr(args, kind)(text) == value


@pytest.mark.parametrize("kind, text, says", [
    ("positive_int", "0", "expected an integer >= 1, got '0'"),
    ("positive_int", "1.5", "expected an integer >= 1, got '1.5'"),
    ("non_negative_int", "-1", "expected an integer >= 0, got '-1'"),
    ("positive_float", "0", "expected a finite number > 0, got '0'"),
    ("non_negative_float", "-1", "expected a finite number >= 0, got '-1'"),
    ("non_negative_float", "inf", "expected a finite number >= 0, got 'inf'"),
    ("non_negative_float", "x", "expected a finite number >= 0, got 'x'"),
])
def test_number_types_say_what_was_expected_and_given(args, kind, text, says):
    with pytest.raises(argparse.ArgumentTypeError, match=says.replace(".", r"\.")):
        getattr(args, kind)(text)


def test_lists(args):
    assert args.int_list()("0, 1,2") == [0, 1, 2]
    assert args.int_at_least(100)("100") == 100
    assert args.neighbors("10,-1") == "10,-1"
    for bad in ("", "a", "0", "1,,2"):
        with pytest.raises(argparse.ArgumentTypeError, match=f"integers >= 1 .*, got '{bad}'"):
            args.int_list(1)(bad)
    for bad in ("", "abc", "0,1", "10,-2"):
        with pytest.raises(argparse.ArgumentTypeError, match=f"or -1 .*, got '{bad}'"):
            args.neighbors(bad)


def test_validated_names_the_flag_once(args, capsys):
    parser = args.Parser(prog="x.py")
    assert args.validated(parser, "--n", int, "3") == 3
    with pytest.raises(SystemExit) as stop:
        args.validated(parser, "--n", int, "a")
    assert stop.value.code == 2
    assert capsys.readouterr().err == (
        "x.py: error: --n: invalid literal for int() with base 10: 'a' (see --help)\n")
    with pytest.raises(SystemExit):  # the message names the flag already: not repeated
        args.validated(parser, "--loss", LOSSES.get, "nosuch", parameter="--loss")
    assert capsys.readouterr().err.startswith("x.py: error: unknown loss 'nosuch' for '--loss'")


def test_component_reads_labels_and_checks_parameters(args):
    focal = args.component(LOSSES, "focal[gamma=1.0]", "--loss")
    assert (focal.name, focal.params) == ("focal", {"gamma": 1.0})
    with pytest.raises(ValueError, match="did you mean 'gamma'"):
        args.component(LOSSES, "focal[gama=1]", "--loss")
    with pytest.raises(ValueError, match="for '--loss'"):
        args.component(LOSSES, "nosuch", "--loss")


@pytest.mark.parametrize("stderr, line", [
    ("prog: error: bad thing (see --help)\nCommand exited with non-zero status 2\n"
     "\tCommand being timed: \"python x\"\n\tExit status: 2\n", "bad thing (see --help)"),
    ("Traceback (most recent call last):\n  File ...\nValueError: no\n"
     "\tCommand being timed: \"python x\"\n\tExit status: 1\n", "ValueError: no"),
    ("python -m hetero_imb.train: error: --split: split must be x\n", "--split: split must be x"),
    ("", "(no message)"),
])
def test_child_error_is_the_childs_line_not_gnu_times(args, stderr, line):
    assert args.child_error(stderr) == line
