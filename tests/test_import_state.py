"""Importing hetero_imb (and drawing its pictures) changes no global state of matplotlib."""

import subprocess
import sys
import textwrap

import pytest


@pytest.mark.parametrize("preset", [None, "pdf"])
def test_import_keeps_the_matplotlib_backend(preset):
    code = textwrap.dedent(f"""
        import sys
        import matplotlib
        if {preset!r}:
            matplotlib.use({preset!r})
        before = matplotlib.get_backend()
        import hetero_imb
        import hetero_imb.report.plots as plots
        import hetero_imb.report.summary
        fig = plots.plot_confusion([[3, 1], [0, 2]], ["a", "b"])
        assert matplotlib.get_backend() == before, (before, matplotlib.get_backend())
        # get_backend() itself may import pyplot; our figures never register with it
        if "matplotlib.pyplot" in sys.modules:
            assert sys.modules["matplotlib.pyplot"].get_fignums() == [], "a pyplot figure"
        print(before)
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    if preset:
        assert done.stdout.strip() == preset


def test_figures_save_without_pyplot(tmp_path):
    from hetero_imb.report.plots import plot_class_distribution

    fig = plot_class_distribution({"train": [5, 2], "test": [2, 1]}, ["a", "b"])
    fig.savefig(tmp_path / "f.png")
    assert (tmp_path / "f.png").stat().st_size > 1000
