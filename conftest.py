"""Doctests of ``hetero_imb/`` run in a temporary folder with a temporary data root,
so that the examples write nothing into the checkout (tests/ has its own conftest)."""

from __future__ import annotations

import pytest
from _pytest.doctest import DoctestItem


@pytest.fixture(autouse=True)
def _doctest_writes_outside_the_checkout(request, tmp_path_factory, monkeypatch):
    if isinstance(request.node, DoctestItem):
        monkeypatch.setenv("HETERO_IMB_DATA", str(tmp_path_factory.getbasetemp() / "data"))
        monkeypatch.chdir(tmp_path_factory.mktemp("doctest"))
    yield
