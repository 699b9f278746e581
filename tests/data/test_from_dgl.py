"""from_dgl: with a stand-in DGL (always) and the real one (when it imports)."""

import sys
import types

import pytest
import torch

from hetero_imb.data.from_dgl import from_dgl


def pairs(data, edge_type):
    return [tuple(p) for p in data[edge_type].edge_index.t().tolist()]


# ------------------------------------------------------------------------- from_dgl
def dgl_or_skip():
    try:
        import dgl
    except Exception as exc:  # not installed, or built for another torch
        pytest.skip(f"DGL does not import here: {type(exc).__name__}")
    return dgl


def test_from_dgl_raises_clear_import_error_without_dgl(monkeypatch):
    monkeypatch.setitem(sys.modules, "dgl", None)
    with pytest.raises(
        ImportError,
        match=r"optional extra \(pip install hetero_imb\[dgl\]\).*torch <= 2.3.*from_pandas",
    ):
        from_dgl(object(), target="paper")


def test_from_dgl_import_error_when_dgl_breaks_on_import(monkeypatch):
    class Broken:
        def find_spec(self, name, path=None, target=None):
            if name == "dgl":
                raise OSError("libgraphbolt_pytorch_2.13.so: cannot open shared object file")
            return None

    monkeypatch.delitem(sys.modules, "dgl", raising=False)
    monkeypatch.setattr(sys, "meta_path", [Broken(), *sys.meta_path])
    with pytest.raises(
        ImportError, match="OSError: libgraphbolt.*DGL is an optional extra"
    ) as info:
        from_dgl(object(), target="paper")
    assert isinstance(info.value.__cause__, OSError)


class _FakeDGLGraph:
    """The slice of the DGLGraph API that PyG's from_dgl and from_dgl read."""

    def __init__(self, edges, num_nodes, ndata):
        self._edges = edges
        self._num_nodes = num_nodes
        self.nodes = {t: types.SimpleNamespace(data=ndata.get(t, {})) for t in num_nodes}
        self.ntypes = list(num_nodes)
        self.canonical_etypes = list(edges)
        self.is_homogeneous = False

    def num_nodes(self, ntype):
        return self._num_nodes[ntype]

    def edges(self, form="uv", etype=None):
        return self._edges[etype]

    def edge_attr_schemes(self, etype):
        return {}


def test_from_dgl_conventions_with_a_stand_in_dgl(monkeypatch):
    monkeypatch.setitem(sys.modules, "dgl", types.SimpleNamespace(DGLGraph=_FakeDGLGraph))
    writes = (torch.tensor([0, 0, 1, 2, 2]), torch.tensor([0, 1, 1, 2, 2]))  # one duplicate
    g = _FakeDGLGraph(
        {
            ("author", "writes", "paper"): writes,
            ("paper", "written_by", "author"): (writes[1], writes[0]),
            ("paper", "cites", "paper"): (torch.tensor([0]), torch.tensor([2])),
        },
        {"author": 3, "paper": 3, "venue": 2},
        {
            "paper": {
                "feat": torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]),
                "label": torch.tensor([1, -1, 0]),
                "train_mask": torch.tensor([1, 0, 0], dtype=torch.uint8),
            }
        },
    )
    data = from_dgl(g, target="paper", class_names=["db", "ml"])
    assert data.edge_types == [
        ("author", "writes", "paper"),
        ("paper", "written_by", "author"),
        ("paper", "cites", "paper"),
    ]  # writes/written_by already reverse each other; cites made symmetric
    assert pairs(data, ("paper", "written_by", "author")) == [(0, 0), (1, 0), (1, 1), (2, 2)]
    assert pairs(data, ("paper", "cites", "paper")) == [(0, 2), (2, 0)]
    assert data.metapaths == [
        [("paper", "written_by", "author"), ("author", "writes", "paper")],
        [("paper", "cites", "paper")],
    ]
    assert data["paper"].y.tolist() == [1, -1, 0]
    assert data["paper"].x.dtype == torch.float32 and data["paper"].x.tolist()[2] == [1.0, 1.0]
    assert "x" not in data["author"] and data["venue"].num_nodes == 2
    assert data["paper"].train_mask.tolist() == [True, False, False]
    assert data.node_ids["author"] == [0, 1, 2]
    with pytest.raises(
        ValueError,
        match=r"node type 'paper' has no node data 'y'; it has: \['feat', 'label', 'train_mask'\]",
    ):
        from_dgl(g, target="paper", label="y")
    with pytest.raises(
        ValueError,
        match=r"'target' must be one of the node types \['author', 'paper', 'venue'\], got 'user'",
    ):
        from_dgl(g, target="user")


def test_from_dgl_with_real_dgl():
    dgl = dgl_or_skip()
    g = dgl.heterograph(
        {
            ("user", "buys", "item"): (torch.tensor([0, 1, 1]), torch.tensor([0, 0, 1])),
            ("item", "similar", "item"): (torch.tensor([0]), torch.tensor([1])),
        }
    )
    g.nodes["item"].data["feat"] = torch.randn(2, 4)
    g.nodes["item"].data["label"] = torch.tensor([0, 1])
    data = from_dgl(g, target="item")
    assert data["user"].num_nodes == 2 and data["item"].x.shape == (2, 4)
    assert ("item", "rev_buys", "user") in data.edge_types
    assert pairs(data, ("item", "similar", "item")) == [(0, 1), (1, 0)]
    assert data.class_names == ["0", "1"]
