"""IMDB 5000 movies: the raw table behind HGB's and MAGNN's IMDB graphs, as a
multi-label heterograph (genres).

Raw file: ``imdb/movie_metadata.csv`` (the "IMDB 5000 Movie Dataset", scraped from
IMDb in 2016; 5,043 rows × 28 columns). The copy in the shared mirror (sha256 pinned
below) writes every missing value as ``0`` — ``0`` as a director, an actor, the plot
keywords, a budget, a year; Kaggle's original leaves such fields empty. Both forms
are read: an empty field is missing everywhere, and ``0`` is missing where zero
cannot be a real value (see below).

The graph:

* **movie** (target): one node per distinct ``movie_imdb_link`` (4,919; the file
  repeats 124 of them, in 241 rows). Duplicate rows are merged: relations are the
  union over the rows, a numeric field the first value present. ``node_ids["movie"]``
  holds the IMDb title ids (``tt0499549``).
* **director** (``director_name``, 2,398), **actor** (``actor_1_name`` ..
  ``actor_3_name``, 6,255) and **keyword** (``plot_keywords``, ``|``-separated,
  8,086); names are node ids; a ``0`` or empty name is no node (the README of the
  mirror counts the ``0`` placeholder too: 2,399 / 6,256 / 8,086).
* relations ``movie -directed_by-> director``, ``movie -stars-> actor``,
  ``movie -has_keyword-> keyword`` and their ``rev_`` reverses; meta-paths
  movie-director-movie, movie-actor-movie, movie-keyword-movie. Only movies have
  features.
* movie features ``x`` (float32, raw scale; runs standardise every column per node
  type): the 16 numeric columns (:data:`NUMERIC_COLUMNS`), ``log1p`` of the counts,
  likes and money (:data:`LOG_COLUMNS`, heavy-tailed). Missing values: ``0`` in the
  columns where zero is impossible (:data:`ZERO_MEANS_MISSING`: reviews, duration,
  gross, budget, year, aspect ratio — their zero counts match the original's empty
  fields exactly) and empty fields anywhere are replaced by the column's median over
  all movies, and every column with a missing value gets a 0/1 indicator column
  ``<column>_missing`` after the 16 (7 in the mirror's copy, 23 features in all).
  Zero likes and zero faces in the poster are kept as values (true zeros are common
  and cannot be told from missing ones). ``data.feature_names`` lists the columns.
* labels: ``genres`` (``|``-separated) as multi-hot ``y`` ``[4919, C]``. Option
  ``labels``: ``"hgb"`` (default) keeps HGB's five genres (Action, Comedy, Drama,
  Romance, Thriller; 4,565 movies carry at least one); ``"all"`` keeps every genre
  carried by at least ``min_count`` distinct movies (default 50: 21 genres, Drama
  2,535 down to Western 94). Labels are ordered alphabetically. Movies with none of
  the kept genres are unlabelled (an all ``-1`` row).

Genre counts over the 4,919 movies: Drama 2,535, Comedy 1,848, Thriller 1,364,
Action 1,113, Romance 1,084, Adventure 888, Crime 869, Sci-Fi 595, Fantasy 583,
Horror 540, Family 534, Mystery 485, Biography 291, Animation 240, Music 212, War
210, History 202, Sport 177, Musical 131, Documentary 121, Western 94, Film-Noir 6,
Short 5, News 3, Reality-TV 2, Game-Show 1 (the mirror's README counts rows,
duplicates included: Drama 2,594, ...).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from torch_geometric.data import HeteroData

from ...params import ParamError, ParamSpec
from ..from_pandas import from_pandas
from . import DATASETS
from .base import DatasetFileError, DatasetLoader, RawFile

__all__ = ["HGB_GENRES", "ImdbLoader", "build_imdb", "read_movies"]

FILE = "movie_metadata.csv"
#: The original scraper's repository (Sun, 2016). Its copy may differ in bytes from the
#: mirror's (which writes missing values as 0); a mismatch fails the checksum check.
UPSTREAM_URL = (
    "https://raw.githubusercontent.com/sundeepblue/movie_rating_prediction/master/"
    "movie_metadata.csv"
)
HGB_GENRES = ["Action", "Comedy", "Drama", "Romance", "Thriller"]
NUMERIC_COLUMNS = [
    "num_critic_for_reviews", "duration", "director_facebook_likes", "actor_3_facebook_likes",
    "actor_1_facebook_likes", "gross", "num_voted_users", "cast_total_facebook_likes",
    "facenumber_in_poster", "num_user_for_reviews", "budget", "title_year",
    "actor_2_facebook_likes", "imdb_score", "aspect_ratio", "movie_facebook_likes",
]  # fmt: skip
#: Columns where 0 is not a possible value, so a 0 means missing.
ZERO_MEANS_MISSING = (
    "num_critic_for_reviews", "duration", "gross", "num_user_for_reviews", "budget",
    "title_year", "aspect_ratio",
)  # fmt: skip
#: Heavy-tailed counts, likes and money, used as log1p.
LOG_COLUMNS = (
    "num_critic_for_reviews", "director_facebook_likes", "actor_3_facebook_likes",
    "actor_1_facebook_likes", "gross", "num_voted_users", "cast_total_facebook_likes",
    "num_user_for_reviews", "budget", "actor_2_facebook_likes", "movie_facebook_likes",
)  # fmt: skip
ACTOR_COLUMNS = ("actor_1_name", "actor_2_name", "actor_3_name")
NAME_COLUMNS = ("director_name", *ACTOR_COLUMNS, "plot_keywords", "genres", "movie_imdb_link")
RELATIONS = {
    "director": ("directed_by", "directors"),
    "actor": ("stars", "actors"),
    "keyword": ("has_keyword", "keywords"),
}
PARAMS: dict[str, ParamSpec] = {
    "labels": ParamSpec(
        "str", "hgb", "hgb: HGB's five genres; all: every genre of at least min_count movies",
        choices=("hgb", "all"),
    ),
    "min_count": ParamSpec(
        "int", 50, "labels=all: fewest movies a genre needs to be a label", low=1
    ),
}
_TITLE_ID = re.compile(r"tt\d+")


def _names(value: str, sep: str | None = None) -> list[str]:
    """The names in one field; ``""`` and ``"0"`` are missing."""
    parts = value.split(sep) if sep else [value]
    return [p.strip() for p in parts if p.strip() not in ("", "0")]


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as err:
        raise DatasetFileError(f"{path.name}: not a readable CSV table ({err})") from err
    missing = [c for c in (*NAME_COLUMNS, *NUMERIC_COLUMNS) if c not in table.columns]
    if missing:
        raise DatasetFileError(f"{path.name} line 1: the header lacks column(s) {missing}")
    return table


def _numbers(table: pd.DataFrame, path: Path) -> pd.DataFrame:
    """The numeric columns as floats (NaN = missing)."""
    out = {}
    for col in NUMERIC_COLUMNS:
        text = table[col].str.strip()
        values = pd.to_numeric(text.replace("", None), errors="coerce")
        bad = values.isna() & (text != "")
        if bad.any():
            row = int(np.argmax(bad.to_numpy()))
            raise DatasetFileError(
                f"{path.name} line {row + 2}: column {col!r} must be a number, got "
                f"{table[col].iloc[row]!r}"
            )
        if col in ZERO_MEANS_MISSING:
            values = values.mask(values == 0)
        out[col] = values.astype(float)
    return pd.DataFrame(out)


def read_movies(path: str | Path) -> pd.DataFrame:
    """Read ``movie_metadata.csv`` into one row per distinct movie (duplicates merged).

    Returns:
        A table indexed by IMDb title id (file order of first appearance) with the
        numeric columns (NaN = missing, before imputation) and the list columns
        ``directors``, ``actors``, ``keywords``, ``genres`` (unions over the rows).

    Raises:
        DatasetFileError: an unreadable file, a missing column, a non-numeric value in
        a numeric column, or a ``movie_imdb_link`` without a title id (line named).
    """
    path = Path(path)
    table = _read_csv(path)
    ids = table["movie_imdb_link"].str.extract(f"({_TITLE_ID.pattern})", expand=False)
    if ids.isna().any():
        row = int(np.argmax(ids.isna().to_numpy()))
        raise DatasetFileError(
            f"{path.name} line {row + 2}: movie_imdb_link {table['movie_imdb_link'].iloc[row]!r} "
            "holds no IMDb title id (tt...)"
        )
    rows = _numbers(table, path)
    rows["directors"] = table["director_name"].map(_names)
    rows["actors"] = [
        [n for col in ACTOR_COLUMNS for n in _names(r[col])] for _, r in table.iterrows()
    ]
    rows["keywords"] = table["plot_keywords"].map(lambda v: _names(v, "|"))
    rows["genres"] = table["genres"].map(lambda v: _names(v, "|"))
    rows.index = pd.Index(ids.to_numpy(), name="imdb_id")
    grouped = rows.groupby(level=0, sort=False)
    movies = grouped[NUMERIC_COLUMNS].first()  # first value present per column
    for col in ("directors", "actors", "keywords", "genres"):
        movies[col] = grouped[col].agg(lambda lists: list(dict.fromkeys(n for ls in lists for n in ls)))
    return movies


def movie_features(movies: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    """The movie feature matrix and its column names (see the module docstring)."""
    values = movies[NUMERIC_COLUMNS].copy()
    for col in LOG_COLUMNS:
        values[col] = np.log1p(values[col].clip(lower=0))
    missing = values.isna()
    flagged = [c for c in NUMERIC_COLUMNS if missing[c].any()]
    values = values.fillna(values.median())
    values = values.fillna(0.0)  # a column missing in every movie
    columns = [values[c].to_numpy() for c in NUMERIC_COLUMNS]
    columns += [missing[c].to_numpy(dtype=float) for c in flagged]
    names = NUMERIC_COLUMNS + [f"{c}_missing" for c in flagged]
    return np.stack(columns, axis=1).astype(np.float32), names


def genre_counts(movies: pd.DataFrame) -> dict[str, int]:
    """Number of distinct movies per genre, most frequent first (ties by name)."""
    counts = pd.Series([g for gs in movies["genres"] for g in gs]).value_counts()
    return dict(sorted(((str(g), int(n)) for g, n in counts.items()), key=lambda t: (-t[1], t[0])))


def choose_labels(movies: pd.DataFrame, labels: str = "hgb", min_count: int = 50) -> list[str]:
    """The label names (alphabetical): HGB's five genres, or every genre of at least
    ``min_count`` movies.

    Raises:
        ParamError: ``min_count`` leaves fewer than 2 genres.
    """
    if labels == "hgb":
        return list(HGB_GENRES)
    counts = genre_counts(movies)
    chosen = sorted(g for g, n in counts.items() if n >= min_count)
    if len(chosen) < 2:
        second = sorted(counts.values())[-2] if len(counts) > 1 else 0
        raise ParamError(
            f"dataset 'imdb': min_count must be at most {second} (the count of the second "
            f"most frequent genre; a label set needs 2 genres), got {min_count}"
        )
    return chosen


def build_imdb(path: str | Path, labels: str = "hgb", min_count: int = 50) -> HeteroData:
    """Build the IMDB movie graph from ``movie_metadata.csv`` (module docstring).

    Args:
        path: The CSV file.
        labels: ``"hgb"`` or ``"all"``.
        min_count: With ``labels="all"``, the fewest movies a genre needs.

    Returns:
        The validated graph; ``data.feature_names["movie"]`` names the feature columns.
    """
    movies = read_movies(path)
    names = choose_labels(movies, labels, min_count)
    kept = set(names)
    x, feature_names = movie_features(movies)
    label_sets = [[g for g in gs if g in kept] or None for gs in movies["genres"]]
    movie_table = pd.DataFrame(x, columns=feature_names)
    movie_table.insert(0, "imdb_id", movies.index.to_numpy())
    movie_table["genres"] = pd.Series(label_sets, dtype=object)
    nodes = {"movie": movie_table}
    edges = {}
    for node_type, (relation, column) in RELATIONS.items():
        pairs = movies[column].explode().dropna()
        nodes[node_type] = pd.DataFrame({"name": sorted(set(pairs))})
        edges[("movie", relation, node_type)] = pd.DataFrame(
            {"src": pairs.index.to_numpy(), "dst": pairs.to_numpy()}
        )
    data = from_pandas(
        nodes, edges, target="movie", label="genres", node_id={"movie": "imdb_id", **{
            t: "name" for t in RELATIONS}}, features={"movie": feature_names, **{
            t: [] for t in RELATIONS}}, class_names=names,
    )  # fmt: skip
    data.feature_names = {"movie": feature_names}
    data.name = "imdb"
    return data


@DATASETS.register("imdb")
class ImdbLoader(DatasetLoader):
    """IMDB 5000 movies: movie (target) — director, actor, keyword; multi-label genres.

    Options: ``labels`` (``"hgb"``: HGB's five genres, default; ``"all"``: every genre
    of at least ``min_count`` movies, default 50; ignored with ``"hgb"``). See the
    module docstring.

    Example:
        >>> from hetero_imb.data.datasets import load
        >>> data = load("imdb")
        >>> data["movie"].y.shape, data.class_names
        (torch.Size([4919, 5]), ['Action', 'Comedy', 'Drama', 'Romance', 'Thriller'])
    """

    name = "imdb"
    params = PARAMS
    raw_folder = "imdb"
    raw_files = (
        RawFile(FILE, "28f837a948638518efd33751406a9ebf912d7987dc865f5bd315506ae6bd2240", UPSTREAM_URL),
    )
    version = 1
    source_hint = (
        "movie_metadata.csv is the IMDB 5000 Movie Dataset (Kaggle, 2016); put the file "
        "in <data root>/imdb/"
    )

    def cache_options(self) -> dict[str, Any]:
        opts = self.resolved_options()
        if opts["labels"] == "hgb":  # min_count does not change the HGB label set
            del opts["min_count"]
        return opts

    def process(self, raw: dict[str, Path]) -> HeteroData:
        return build_imdb(raw[FILE], **self.resolved_options())
