"""The README's and docs' headline figures are what the committed grid rows give."""

import pytest

from hetero_imb.report import headlines

ROOT = headlines.ROOT


@pytest.mark.parametrize("name", sorted(headlines.BLOCKS))
def test_published_blocks_match_the_committed_summaries(name):
    text = (ROOT / headlines.BLOCKS[name]).read_text(encoding="utf-8")
    expected = headlines.update_text(text, name, headlines.render(name, text, counts=False))
    assert text == expected, "run: python -m hetero_imb.report.headlines --write"


def test_a_hand_edited_number_is_caught():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = headlines.render("readme", text)
    edited = text.replace(block.splitlines()[2], block.splitlines()[2].replace("55.3", "54.1"))
    assert edited != text
    assert headlines.update_text(edited, "readme", block) == text


def test_readme_numbers_come_from_the_facebook_grid():
    table = headlines.study_table("facebook")
    row = table.loc[("gcn", "ce", "none")]
    line = f"{100 * row['recall[politician]_mean']:.1f} % / {100 * row['macro_f1_mean']:.1f} %"
    assert line in (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.mark.slow
def test_test_node_counts_are_those_of_the_split():
    text = (ROOT / "docs" / "case_studies.md").read_text(encoding="utf-8")
    assert headlines.update_text(text, "published", headlines.render("published", text)) == text
    assert "1,090 test pages" in text  # the protocol sentence says the same
