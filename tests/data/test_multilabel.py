"""Multi-hot labels through the data stage: validation, counts, describe, from_pandas."""

from __future__ import annotations

import pandas as pd
import pytest
import torch

from hetero_imb.data.from_pandas import from_pandas
from hetero_imb.data.graph import class_counts, describe, is_multilabel, labelled_mask
from hetero_imb.data.labels import multi_hot, parse_multilabels
from hetero_imb.data.validate import GraphValidationError, validate_graph


def test_validate_accepts_multi_hot_and_counts_positives_per_label(multilabel):
    data = multilabel
    assert validate_graph(data) is data and is_multilabel(data)
    y = data["item"].y
    expected = (y[20:] == 1).sum(dim=0).tolist()
    assert class_counts(data) == expected
    mask = torch.zeros(300, dtype=torch.bool)
    mask[[0, 25, 26]] = True  # node 0 is unlabelled: not counted
    assert class_counts(data, mask) == (y[[25, 26]] == 1).sum(dim=0).tolist()
    text = describe(data)
    assert "labels (multi-label): 4" in text and "labelled: 280 of 300" in text
    assert "label positives: a=" + str(expected[0]) in text


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda y: y.long(), r"must be 1-D class indices \(long\) or 2-D multi-hot rows \(float\), "
                             r"got shape \[300, 4\] and dtype torch.int64"),
        (lambda y: y[:, :3], r"have 3 columns, but the graph has 4 class names"),
        (lambda y: y.index_put((torch.tensor([30]), torch.tensor([2])), torch.tensor(2.0)),
         r"^multi-hot label 2.0 at item node 30, column 2 must be 0 or 1 \(an unlabelled row is "
         r"all -1\); 1 of 300 rows are invalid$"),
        (lambda y: y.index_put((torch.tensor([31]), torch.tensor([0])), torch.tensor(-1.0)),
         r"multi-hot label -1.0 at item node 31, column 0 must be 0 or 1"),  # a partial -1 row
        (lambda y: torch.full_like(y, -1.0), r"has no labelled node: all 300 labels are -1"),
    ],
)  # fmt: skip
def test_validate_rejects_bad_multi_hot_in_one_line(multilabel, edit, message):
    data = multilabel
    data["item"].y = edit(data["item"].y)
    with pytest.raises(GraphValidationError, match=message):
        validate_graph(data)


def test_training_validation_counts_labelled_rows(multilabel):
    from hetero_imb.data.splits import stratified_split

    data = stratified_split(multilabel, seed=0)
    validate_graph(data, for_training=True)
    data["item"].y = data["item"].y.clone()
    data["item"].y[data["item"].val_mask] = -1.0
    with pytest.raises(GraphValidationError, match=r"val_mask .* holds no labelled node"):
        validate_graph(data, for_training=True)


def test_multi_hot_and_parse():
    assert multi_hot([["c"], None], ["a", "c"]).tolist() == [[0.0, 1.0], [-1.0, -1.0]]
    with pytest.raises(ValueError, match=r"label 'z' of row 1 is not one of the class names"):
        multi_hot([["a"], ["z"]], ["a"])
    y, names = parse_multilabels(pd.Series([("x",), {"y", "x"}, float("nan")]), None, "col", None)
    assert names == ["x", "y"] and y.tolist() == [[1, 0], [1, 1], [-1, -1]]
    with pytest.raises(ValueError, match=r"^col: entry 'x' at row 0 is not a list of labels"):
        parse_multilabels(pd.Series(["x", ["y"]]), None, "col", None)


# ------------------------------------------------------------------- from_pandas
def _tables(labels):
    movies = pd.DataFrame({"mid": ["m0", "m1", "m2", "m3"], "year": [1990, 2001, 2010, 2015],
                           "genres": labels})  # fmt: skip
    people = pd.DataFrame({"pid": ["p0", "p1"]})
    cast = pd.DataFrame({"src": ["m0", "m1", "m2", "m3"], "dst": ["p0", "p0", "p1", "p1"]})
    return {"movie": movies, "person": people}, {("movie", "stars", "person"): cast}


def test_from_pandas_list_valued_labels_give_multi_hot():
    nodes, edges = _tables([["Drama", "Comedy"], ["Drama"], None, []])
    data = from_pandas(nodes, edges, target="movie", label="genres", node_id={"movie": "mid", "person": "pid"})
    assert is_multilabel(data) and data.class_names == ["Comedy", "Drama"]
    assert data["movie"].y.tolist() == [[1, 1], [0, 1], [-1, -1], [0, 0]]
    assert labelled_mask(data["movie"].y).tolist() == [True, True, False, True]
    assert data["movie"].x.shape == (4, 1)  # the label column is not a feature
    assert class_counts(data) == [1, 2]


def test_from_pandas_delimited_strings_with_label_sep_and_given_names():
    nodes, edges = _tables(["Drama|Comedy", "Drama", None, "War"])
    data = from_pandas(nodes, edges, target="movie", label="genres", node_id={"movie": "mid", "person": "pid"},
                       label_sep="|", class_names=["Drama", "War", "Comedy"])  # fmt: skip
    assert data["movie"].y.tolist() == [[1, 0, 1], [1, 0, 0], [-1, -1, -1], [0, 1, 0]]
    with pytest.raises(ValueError, match=r"label column 'genres' of node type 'movie': label 'War' "
                                         r"at row 3 \(id 'm3'\) is not in class_names"):  # fmt: skip
        from_pandas(nodes, edges, target="movie", label="genres", node_id={"movie": "mid", "person": "pid"},
                    label_sep="|", class_names=["Drama", "Comedy"])  # fmt: skip
    with pytest.raises(TypeError, match="parameter 'label_sep' must be a non-empty string"):
        from_pandas(nodes, edges, target="movie", label="genres", label_sep="")


def test_from_pandas_strings_without_label_sep_stay_single_label():
    nodes, edges = _tables(["Drama", "Comedy", None, "Drama"])
    data = from_pandas(nodes, edges, target="movie", label="genres", node_id={"movie": "mid", "person": "pid"})
    assert not is_multilabel(data) and data["movie"].y.tolist() == [1, 0, -1, 1]
