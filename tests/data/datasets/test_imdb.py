"""The ``imdb`` loader: the real file against the facts of the shared mirror's README,
and small CSV files (written here) for the parsing rules and the errors."""

from __future__ import annotations

import collections
import csv
from pathlib import Path

import numpy as np
import pytest
import torch

from hetero_imb import paths
from hetero_imb.data.datasets import DATASETS, DatasetFileError, load
from hetero_imb.data.datasets.imdb import (
    HGB_GENRES,
    NUMERIC_COLUMNS,
    ZERO_MEANS_MISSING,
    ImdbLoader,
    build_imdb,
    genre_counts,
    read_movies,
)
from hetero_imb.data.graph import class_counts, describe, is_multilabel, labelled_mask
from hetero_imb.data.validate import validate_graph
from hetero_imb.params import ParamError

README_GENRE_ROWS = {  # genre counts over all 5,043 rows, from ../shared/datasets/README.md
    "Drama": 2594, "Comedy": 1872, "Thriller": 1411, "Action": 1153, "Romance": 1107,
    "Adventure": 923, "Crime": 889, "Sci-Fi": 616, "Fantasy": 610, "Horror": 565,
    "Family": 546, "Mystery": 500, "Biography": 293, "Animation": 242, "Music": 214,
    "War": 213, "History": 207, "Sport": 182, "Musical": 132, "Documentary": 121,
    "Western": 97, "Film-Noir": 6, "Short": 5, "News": 3, "Reality-TV": 2, "Game-Show": 1,
}  # fmt: skip


def _mirror_csv() -> Path:
    for mirror in paths.mirror_dirs():
        path = mirror / "imdb" / "movie_metadata.csv"
        if path.is_file():
            return path
    pytest.skip("local mirror has no imdb/movie_metadata.csv")


@pytest.fixture(scope="module")
def raw_rows() -> list[dict[str, str]]:
    with open(_mirror_csv(), encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def hgb_graph():
    return build_imdb(_mirror_csv())


@pytest.fixture(scope="module")
def movies():
    return read_movies(_mirror_csv())


# ------------------------------------------------------------- the README's facts
def test_file_facts_rows_links_and_genre_counts(raw_rows):
    assert len(raw_rows) == 5043 and len(raw_rows[0]) == 28
    assert len({r["movie_imdb_link"] for r in raw_rows}) == 4919
    rows = collections.Counter(g for r in raw_rows for g in r["genres"].split("|"))
    assert dict(rows) == README_GENRE_ROWS


def test_entity_counts_match_the_readme_less_the_zero_placeholder(raw_rows, hgb_graph):
    directors = {r["director_name"] for r in raw_rows}
    actors = {r[c] for r in raw_rows for c in ("actor_1_name", "actor_2_name", "actor_3_name")}
    keywords = {k for r in raw_rows for k in r["plot_keywords"].split("|")}
    assert (len(directors), len(actors)) == (2399, 6256)  # the README counts "0" as a name
    assert "0" in directors and "0" in actors and "0" in keywords
    counts = {t: hgb_graph[t].num_nodes for t in hgb_graph.node_types}
    assert counts == {"movie": 4919, "director": 2398, "actor": 6255, "keyword": 8086}
    assert len(keywords - {"0"}) == 8086
    assert "0" not in hgb_graph.node_ids["director"] and "0" not in hgb_graph.node_ids["actor"]


def test_hgb_labels_multi_hot_with_4565_labelled_movies(hgb_graph, movies):
    data = hgb_graph
    assert is_multilabel(data) and data.class_names == HGB_GENRES
    y = data["movie"].y
    assert y.dtype == torch.float32 and y.shape == (4919, 5)
    labelled = labelled_mask(y)
    assert int(labelled.sum()) == 4565
    assert bool((y[~labelled] == -1).all()) and set(y[labelled].unique().tolist()) == {0.0, 1.0}
    per_movie = genre_counts(movies)
    assert class_counts(data) == [per_movie[g] for g in HGB_GENRES] == [1113, 1848, 2535, 1084, 1364]
    # every labelled row is exactly the movie's genres within the five
    for i in (0, 1, 500, 4918):
        genres = set(movies["genres"].iloc[i]) & set(HGB_GENRES)
        expected = [1.0 if g in genres else 0.0 for g in HGB_GENRES] if genres else [-1.0] * 5
        assert y[i].tolist() == expected
    assert "labelled: 4565 of 4919" in describe(data)


def test_distinct_movie_genre_counts(movies):
    counts = genre_counts(movies)
    assert len(counts) == 26 and sum(counts.values()) == 14133
    assert list(counts.items())[:3] == [("Drama", 2535), ("Comedy", 1848), ("Thriller", 1364)]
    assert counts["Western"] == 94 and counts["Game-Show"] == 1
    assert all(counts[g] <= README_GENRE_ROWS[g] for g in counts)  # rows include duplicates


def test_relations_reverses_metapaths_and_ids(hgb_graph):
    data = hgb_graph
    for rel, other in (("directed_by", "director"), ("stars", "actor"), ("has_keyword", "keyword")):
        forward = data["movie", rel, other].edge_index
        assert torch.equal(data[other, f"rev_{rel}", "movie"].edge_index, forward.flip(0))
    assert [len(p) for p in data.metapaths] == [2, 2, 2]
    assert data.node_ids["movie"][0] == "tt0499549"  # Avatar, the first row
    avatar = data["movie", "directed_by", "director"].edge_index
    directors = [data.node_ids["director"][j] for j in avatar[1][avatar[0] == 0].tolist()]
    assert directors == ["James Cameron"]
    validate_graph(data)


def test_duplicates_merged_as_unions(hgb_graph, movies):
    ben_hur = movies.loc[movies.index[movies.index.str.fullmatch("tt2638144")]]
    assert len(ben_hur) == 1 and "chariot race" in ben_hur["keywords"].iloc[0]  # one row had "0"
    brothers = [m for m, acts in movies["actors"].items() if "Bailee Madison" in acts
                and "Ethan Suplee" in acts]  # fmt: skip
    assert len(brothers) == 1  # two rows with one link, different third actors: both kept


def test_features_impute_zeros_that_mean_missing(hgb_graph, movies, raw_rows):
    x, names = hgb_graph["movie"].x, hgb_graph.feature_names["movie"]
    assert x.shape == (4919, 23) and bool(torch.isfinite(x).all())
    assert names[:16] == NUMERIC_COLUMNS
    assert names[16:] == [f"{c}_missing" for c in ZERO_MEANS_MISSING]
    gross_missing = x[:, names.index("gross_missing")]
    assert int(gross_missing.sum()) == int(movies["gross"].isna().sum()) > 800
    gross = x[:, names.index("gross")]
    imputed = float(np.log1p(movies["gross"].dropna()).median())
    assert torch.allclose(gross[gross_missing == 1], torch.tensor(imputed))
    year = x[:, names.index("title_year")]
    assert float(year[gross_missing == 0].min()) > 1900  # raw scale; a 0 year was missing
    assert float(x[0, names.index("duration")]) == 178.0  # Avatar
    likes = x[:, names.index("director_facebook_likes")]
    assert float(likes[0]) == 0.0  # zero likes are a value, not missing


# ------------------------------------------------------------------ the options
def test_all_genres_with_min_count(tmp_path):
    data = build_imdb(_mirror_csv(), labels="all", min_count=100)
    assert len(data.class_names) == 20 and "Western" not in data.class_names
    assert data.class_names == sorted(data.class_names)
    counts = dict(zip(data.class_names, class_counts(data), strict=True))
    assert counts["Drama"] == 2535 and min(counts.values()) == counts["Documentary"] == 121
    default = load("imdb", root=tmp_path, labels="all")
    assert len(default.class_names) == 21 and "Western" in default.class_names


def test_options_are_declared_and_checked(tmp_path):
    assert list(DATASETS.params("imdb")) == ["labels", "min_count"]
    with pytest.raises(ParamError, match=r"^dataset 'imdb': labels must be one of"):
        load("imdb", root=tmp_path, labels="five")
    assert ImdbLoader(min_count=10).cache_options() == {"labels": "hgb"}  # ignored with hgb
    too_many = r"min_count must be at most 1848 \(the count of the second most frequent genre"
    with pytest.raises(ParamError, match=too_many + r"; a label set needs 2 genres\), got 2600"):
        build_imdb(_mirror_csv(), labels="all", min_count=2600)


def test_load_finds_the_mirror_and_caches_per_option(tmp_path):
    _mirror_csv()
    data = load("imdb", root=tmp_path)
    assert data.name == "imdb" and data["movie"].y.shape == (4919, 5)
    load("imdb", root=tmp_path, labels="all", min_count="50")
    assert len(list((tmp_path / "processed").glob("imdb-*.pt"))) == 2


# ---------------------------------------------------- small files: both encodings
HEADER = (
    "color,director_name,num_critic_for_reviews,duration,director_facebook_likes,"
    "actor_3_facebook_likes,actor_2_name,actor_1_facebook_likes,gross,genres,actor_1_name,"
    "movie_title,num_voted_users,cast_total_facebook_likes,actor_3_name,facenumber_in_poster,"
    "plot_keywords,movie_imdb_link,num_user_for_reviews,language,country,content_rating,budget,"
    "title_year,actor_2_facebook_likes,imdb_score,aspect_ratio,movie_facebook_likes"
)
ROWS = [  # the second row has its gross, year, keywords and director missing (as {m})
    "Color,Ann Lee,10,100,5,1,Bo,2,1000,Action|Drama,Cy,A,50,8,Di,0,sea|ship,"
    "http://www.imdb.com/title/tt01/,3,English,USA,PG,500,2001,1,7.0,2.35,0",
    "Color,{m},20,90,0,1,Bo,2,{m},Comedy|Western,Ed,B,60,8,Fa,1,{m},"
    "http://www.imdb.com/title/tt02/,4,English,USA,PG,700,{m},1,6.0,1.85,3",
    "Color,Ann Lee,10,100,5,1,Bo,2,3000,Action|Drama,Cy,A,50,8,Gi,0,sea|storm,"
    "http://www.imdb.com/title/tt01/,3,English,USA,PG,500,2001,1,7.0,2.35,0",
]


def _write(folder: Path, missing: str, rows=ROWS) -> Path:
    path = folder / f"movies{len(missing)}.csv"
    path.write_text("\n".join([HEADER, *(r.format(m=missing) for r in rows)]) + "\n", "utf-8")
    return path


@pytest.mark.parametrize("missing", ["0", ""])
def test_small_file_zero_or_empty_means_missing(tmp_path, missing):
    data = build_imdb(_write(tmp_path, missing))
    assert data.node_ids == {
        "movie": ["tt01", "tt02"], "director": ["Ann Lee"], "actor": ["Bo", "Cy", "Di", "Ed", "Fa", "Gi"],
        "keyword": ["sea", "ship", "storm"],
    }  # fmt: skip
    assert data["movie"].y.tolist() == [[1, 0, 1, 0, 0], [0, 1, 0, 0, 0]]
    names = data.feature_names["movie"]
    assert names[16:] == ["gross_missing", "title_year_missing"]
    x = data["movie"].x
    assert x[:, names.index("gross_missing")].tolist() == [0.0, 1.0]
    assert float(x[0, names.index("gross")]) == pytest.approx(np.log1p(1000))  # first row's value
    assert float(x[1, names.index("gross")]) == pytest.approx(np.log1p(1000))  # the median
    assert float(x[1, names.index("director_facebook_likes")]) == 0.0
    assert data["movie", "has_keyword", "keyword"].num_edges == 3  # sea, ship, storm for tt01


def test_small_file_all_genres_and_unlabelled_movies(tmp_path):
    data = build_imdb(_write(tmp_path, "0"), labels="all", min_count=1)
    assert data.class_names == ["Action", "Comedy", "Drama", "Western"]
    western = ROWS[1].replace("Comedy|", "")
    data = build_imdb(_write(tmp_path, "0", [ROWS[0], western]))
    assert data["movie"].y.tolist() == [[1, 0, 1, 0, 0], [-1] * 5]  # no HGB genre: unlabelled
    assert data["movie"].num_nodes == 2
    with pytest.raises(ValueError, match="no labelled node"):
        build_imdb(_write(tmp_path, "0", [ROWS[1].replace("Comedy|", "")]))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.replace("movie_imdb_link", "link"), r"line 1: the header lacks column\(s\) \['movie_imdb_link'\]"),
        (lambda t: t.replace(",100,5,1,Bo", ",long,5,1,Bo", 1), r"line 2: column 'duration' must be a number, got 'long'"),
        (lambda t: t.replace("title/tt02/", "title/x/"), r"line 3: movie_imdb_link .* holds no IMDb title id"),
    ],
)  # fmt: skip
def test_small_file_errors_name_file_and_line(tmp_path, edit, message):
    path = _write(tmp_path, "0")
    path.write_text(edit(path.read_text("utf-8")), "utf-8")
    with pytest.raises(DatasetFileError, match=rf"^{path.name} {message}"):
        read_movies(path)
