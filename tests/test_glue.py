"""The book's ``glue`` publishes exactly what ``myst_nb.glue`` publishes.

The pages glue through :mod:`mlcicd.glue` to skip myst-nb's heavy first import; myst-nb
still reads the records when it builds the book, so a difference in a MIME type, a
prefix or the ``scrapbook`` marker would leave a number out of the prose.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlcicd.glue import glue

VALUES = {
    "float": 0.9123456,
    "numpy float": np.float64(0.25),
    "int": 341,
    "text": "rolled back",
    "frame": pd.DataFrame({"accuracy": [0.91, 0.88]}, index=["good", "bad"]),
}


def published(monkeypatch, target: str, call) -> list[tuple[tuple, dict]]:
    calls: list[tuple[tuple, dict]] = []
    monkeypatch.setattr(target, lambda *args, **kwargs: calls.append((args, kwargs)))
    call()
    return calls


@pytest.mark.parametrize("display", [False, True], ids=["hidden", "shown"])
@pytest.mark.parametrize("kind", list(VALUES))
def test_glue_publishes_what_myst_nb_publishes(kind, display, monkeypatch):
    from myst_nb.ext import glue as myst_glue

    value = VALUES[kind]

    theirs = published(monkeypatch, "myst_nb.ext.glue.ipy_display",
                       lambda: myst_glue.glue("key", value, display))
    ours = published(monkeypatch, "IPython.display.display",
                     lambda: glue("key", value, display))

    assert ours == theirs
    (data,), options = ours[0]
    assert options["metadata"]["scrapbook"]["name"] == "key"
    # A hidden record is pasted into the prose but never shown as the cell's output.
    assert all(mime.startswith("application/papermill.record/") for mime in data) != display
    assert any(mime.endswith("text/plain") for mime in data)
