"""The simulated drift scenarios move what they say they move, reproducibly."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier

from mlcicd.drift import (
    FEATURES,
    KINDS,
    accuracy_under_drift,
    drift_stream,
    labelling_rule,
    make_drifted,
    reference_data,
    stream_levels,
)
from mlcicd.errors import InputError


@pytest.mark.parametrize("kind", KINDS)
def test_same_seed_gives_the_same_data(kind):
    X1, y1 = make_drifted(kind, 0.5, n=300, seed=4)
    X2, y2 = make_drifted(kind, 0.5, n=300, seed=4)
    assert X1.equals(X2) and y1.equals(y2)
    assert list(X1.columns) == list(FEATURES)
    assert set(y1.unique()) <= {0, 1}


def test_covariate_drift_moves_the_inputs_but_not_the_rule():
    X, y = make_drifted("covariate", 1.0, n=4000, seed=0)
    assert X.mean().to_numpy() == pytest.approx([2.5, 2.5], abs=0.1)
    assert X.std().to_numpy() == pytest.approx([1.5, 1.5], abs=0.1)
    assert (y.to_numpy() == labelling_rule(X)).all()


def test_concept_drift_keeps_the_inputs_and_relabels_a_share_of_points():
    X0, y0 = make_drifted("concept", 0.0, n=4000, seed=1)
    X1, y1 = make_drifted("concept", 0.6, n=4000, seed=1)
    assert X0.equals(X1)
    assert np.mean(y0 != y1) == pytest.approx(0.3, abs=0.03)


def test_prior_shift_changes_the_label_balance_not_the_rule():
    X, y = make_drifted("prior", 1.0, n=4000, seed=2)
    assert y.mean() == pytest.approx(0.9, abs=0.02)
    assert (y.to_numpy() == labelling_rule(X)).all()
    positives = X[y == 1]
    assert positives.mean().to_numpy() == pytest.approx([-0.56, 0.56], abs=0.06)


def test_abrupt_stream_jumps_at_the_drift_point():
    X, y = drift_stream(400, 200, kind="covariate", mode="abrupt", seed=0)
    assert X.index.name == "t" and len(X) == len(y) == 400
    assert X["x1"].iloc[:200].mean() == pytest.approx(0.0, abs=0.2)
    assert X["x1"].iloc[200:].mean() == pytest.approx(2.5, abs=0.3)


def test_gradual_stream_climbs_over_its_width():
    levels = stream_levels(10, 2, mode="gradual", width=4, level=0.8)
    assert levels.tolist() == pytest.approx([0, 0, 0.2, 0.4, 0.6, 0.8, 0.8, 0.8, 0.8, 0.8])


def test_random_forest_suffers_little_from_mild_covariate_shift_and_a_lot_from_concept_drift():
    X, y = reference_data(1500, seed=0)
    model = RandomForestClassifier(n_estimators=30, random_state=0).fit(X, y)
    table = accuracy_under_drift(model, KINDS, [0.0, 0.2, 1.0], n=1500, seed=1)
    acc = table.set_index(["kind", "level"])["accuracy"]
    assert acc["covariate", 0.0] > 0.95
    assert acc["covariate", 0.0] - acc["covariate", 0.2] < 0.03  # in known territory
    assert acc["covariate", 1.0] < acc["covariate", 0.0] - 0.1  # pushed into the unknown
    assert acc["concept", 1.0] < 0.6  # the rule itself moved
    assert abs(acc["prior", 1.0] - acc["prior", 0.0]) < 0.03
    assert list(table.columns) == [
        "kind", "level", "accuracy", "positive_share", "predicted_positive_share"
    ]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: make_drifted("weather", 0.5), "kind"),
        (lambda: make_drifted("covariate", 1.5), "level"),
        (lambda: make_drifted("covariate", -0.1), "level"),
        (lambda: make_drifted("covariate", 0.5, n=-3), "n"),
        (lambda: make_drifted("covariate", 0.5, n=0), "n"),
        (lambda: drift_stream(100, 150), "drift_at"),
        (lambda: drift_stream(100, 50, mode="sideways"), "mode"),
        (lambda: drift_stream(100, 50, mode="gradual", width=0), "width"),
        (lambda: accuracy_under_drift(None, "covariate", [2.0]), "levels"),
    ],
)
def test_bad_parameters_are_refused_by_name(call, message):
    with pytest.raises(InputError, match=message):
        call()


def test_accuracy_plot_has_one_line_per_kind_and_the_minimum():
    import matplotlib.pyplot as plt

    from mlcicd.drift import plot_accuracy_under_drift

    X, y = reference_data(300, seed=0)
    model = RandomForestClassifier(n_estimators=10, random_state=0).fit(X, y)
    table = accuracy_under_drift(model, ["covariate", "concept"], [0.0, 0.5, 1.0], n=300)
    fig = plot_accuracy_under_drift(table, min_accuracy=0.9)
    try:
        labels = [line.get_label() for line in fig.axes[0].get_lines()]
        assert labels == ["covariate drift", "concept drift", "minimum acceptable (90%)"]
    finally:
        plt.close(fig)
