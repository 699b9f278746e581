"""The toy fraud tables that the graph-builder tests share (fixture ``fraud``), and a small
multi-label graph (fixture ``multilabel``)."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest
import torch

from hetero_imb.data.datasets.synthetic import make_synthetic
from hetero_imb.data.from_pandas import from_pandas

MADE_BY = ("transaction", "made_by", "user")
ON = ("transaction", "on", "device")
AT = ("transaction", "at", "merchant")
OWNS = ("user", "owns", "device")
KNOWS = ("user", "knows", "user")


# --------------------------------------------------------------------- toy tables
def fraud_tables():
    """5 users, 3 devices, 2 merchants, 8 transactions (2 fraud, 5 legit, 1 unlabelled)."""
    users = pd.DataFrame(
        {
            "user_id": ["u0", "u1", "u2", "u3", "u4"],
            "age": [23, 35, 51, 19, 44],
            "account_days": [10.0, 400.0, 1200.0, 3.0, 800.0],
            "country": ["FR", "DE", "FR", "US", "DE"],  # not numeric: not a feature
        }
    )
    devices = pd.DataFrame({"device_id": ["d0", "d1", "d2"], "os": ["ios", "android", "ios"]})
    merchants = pd.DataFrame({"merchant_id": ["m0", "m1"], "risk": [0.1, 0.9]})
    transactions = pd.DataFrame(
        {
            "tx_id": [f"t{i}" for i in range(8)],
            "amount": [12.5, 900.0, 5.0, 60.0, 2500.0, 8.0, 31.0, 77.0],
            "hour": [9, 3, 14, 20, 2, 11, 16, 23],
            "label": ["legit", "fraud", "legit", "legit", "fraud", "legit", None, "legit"],
        }
    )
    edges = {
        MADE_BY: pd.DataFrame(
            {
                "src": [
                    "t0",
                    "t1",
                    "t2",
                    "t3",
                    "t4",
                    "t5",
                    "t6",
                    "t7",
                    "t1",
                ],  # last row: duplicate
                "dst": ["u0", "u3", "u1", "u2", "u3", "u4", "u0", "u1", "u3"],
            }
        ),
        ON: pd.DataFrame({"src": ["t0", "t1", "t4", "t5"], "dst": ["d0", "d2", "d2", "d1"]}),
        AT: pd.DataFrame({"src": ["t1", "t0", "t4"], "dst": ["m1", "m0", "m1"]}),
        OWNS: pd.DataFrame({"src": ["u0", "u3", "u1"], "dst": ["d0", "d2", "d1"]}),
        KNOWS: pd.DataFrame({"src": ["u3", "u1"], "dst": ["u4", "u2"]}),
    }
    nodes = {"user": users, "device": devices, "merchant": merchants, "transaction": transactions}
    return nodes, edges


ID_COLS = {
    "user": "user_id",
    "device": "device_id",
    "merchant": "merchant_id",
    "transaction": "tx_id",
}


def build_fraud(**kwargs):
    nodes, edges = fraud_tables()
    kwargs.setdefault("node_id", ID_COLS)
    return from_pandas(nodes, edges, target="transaction", **kwargs)


def pairs(data, edge_type):
    return [tuple(p) for p in data[edge_type].edge_index.t().tolist()]


@pytest.fixture
def fraud() -> SimpleNamespace:
    """The toy tables, their edge types and id columns, and helpers to build them."""
    return SimpleNamespace(
        MADE_BY=MADE_BY, ON=ON, AT=AT, OWNS=OWNS, KNOWS=KNOWS, ID_COLS=ID_COLS,
        tables=fraud_tables, build=build_fraud, pairs=pairs,
    )  # fmt: skip


def make_multilabel(seed: int = 0, num_unlabelled: int = 20):
    """The synthetic item graph (300 items) with 4 multi-hot labels ``a``..``d`` of
    prevalence 50 / 30 / 15 / 8 %; the first ``num_unlabelled`` items are unlabelled."""
    data = make_synthetic(seed=seed)
    gen = torch.Generator().manual_seed(seed)
    n = data["item"].num_nodes
    y = (torch.rand(n, 4, generator=gen) < torch.tensor([0.5, 0.3, 0.15, 0.08])).float()
    y[:num_unlabelled] = -1.0
    data["item"].y = y
    data.class_names = ["a", "b", "c", "d"]
    return data


@pytest.fixture
def multilabel():
    """A fresh :func:`make_multilabel` graph (seed 0)."""
    return make_multilabel()
