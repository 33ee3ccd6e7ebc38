"""Drift: simulate it and detect it.

Simulation (:mod:`mlcicd.drift.simulate`)
    :func:`make_drifted`, :func:`drift_stream`, :func:`accuracy_under_drift`: the
    two-feature world whose inputs (covariate drift), labelling rule (concept drift) or
    label balance (prior shift) move with a drift level in [0, 1].
Detection
    :func:`detect_drift` -> :class:`DriftReport`; the per-feature tests it uses, one per
    module: :class:`KolmogorovSmirnov` (:func:`ks_2samp_columns` for many columns at once),
    :class:`ChiSquared`, :class:`PopulationStabilityIndex`, :class:`Wasserstein`; and
    :func:`adjust_pvalues` for the multiple-testing correction.

Acting on drift (retrain, gate, promote, roll back) is release machinery: the monitor
lives in :mod:`mlcicd.deploy.monitor`, next to what it drives.
"""

from mlcicd.drift.base import DriftTest, DriftTestResult
from mlcicd.drift.categorical import ChiSquared
from mlcicd.drift.correction import CORRECTIONS, adjust_pvalues
from mlcicd.drift.detect import detect_drift
from mlcicd.drift.ks import KolmogorovSmirnov, KSColumnsResult, ks_2samp_columns
from mlcicd.drift.psi import PopulationStabilityIndex
from mlcicd.drift.report import DriftReport, FeatureDrift
from mlcicd.drift.simulate import (
    DESCRIPTIONS,
    FEATURES,
    KINDS,
    accuracy_under_drift,
    concept_drift,
    covariate_drift,
    drift_stream,
    labelling_rule,
    make_drifted,
    plot_accuracy_under_drift,
    prior_shift,
    reference_data,
    stream_levels,
)
from mlcicd.drift.wasserstein import Wasserstein

#: Every per-feature drift test, by name: the contract test runs over all of them.
DRIFT_TESTS: dict[str, type[DriftTest]] = {
    cls.name: cls for cls in (KolmogorovSmirnov, ChiSquared, PopulationStabilityIndex, Wasserstein)
}


__all__ = [
    "CORRECTIONS",
    "DESCRIPTIONS",
    "DRIFT_TESTS",
    "FEATURES",
    "KINDS",
    "ChiSquared",
    "DriftReport",
    "DriftTest",
    "DriftTestResult",
    "FeatureDrift",
    "KSColumnsResult",
    "KolmogorovSmirnov",
    "PopulationStabilityIndex",
    "Wasserstein",
    "accuracy_under_drift",
    "adjust_pvalues",
    "concept_drift",
    "covariate_drift",
    "detect_drift",
    "drift_stream",
    "ks_2samp_columns",
    "labelling_rule",
    "make_drifted",
    "plot_accuracy_under_drift",
    "prior_shift",
    "reference_data",
    "stream_levels",
]
