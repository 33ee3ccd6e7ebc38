"""Detect drift between a reference data set and a current one, feature by feature."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from mlcicd.drift.categorical import ChiSquared
from mlcicd.drift.correction import CORRECTIONS, adjust_pvalues
from mlcicd.drift.ks import ks_2samp_columns
from mlcicd.drift.psi import PopulationStabilityIndex
from mlcicd.drift.report import NOT_TESTED, DriftReport, FeatureDrift
from mlcicd.drift.wasserstein import Wasserstein
from mlcicd.errors import InputError
from mlcicd.io import require_columns
from mlcicd.params import Choice, Integer, Real, check

__all__ = ["DISCRETE_MAX_LEVELS", "FEATURE_TESTS", "detect_drift", "is_discrete"]

#: Default of ``detect_drift(discrete_max_levels=...)``: a numeric feature whose values are
#: all whole numbers with at most this many distinct levels is tested as discrete data.
DISCRETE_MAX_LEVELS = 10
#: The tests a feature can be sent to with ``detect_drift(feature_tests=...)``.
FEATURE_TESTS = ("ks", "chi2")


def detect_drift(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    alpha: float = 0.05,
    correction: str = "bh",
    exclude: Iterable[str] = (),
    columns: Sequence[str] | None = None,
    drift_share: float | None = None,
    psi_bins: int = 10,
    discrete_max_levels: int = DISCRETE_MAX_LEVELS,
    feature_tests: Mapping[str, str] | None = None,
) -> DriftReport:
    """Test every shared feature for drift and decide whether the data set drifted.

    Parameters
    ----------
    reference : DataFrame
        The data the model was trained on (or a sample of it).
    current : DataFrame
        The data to check, e.g. last week's production inputs.
    alpha : float
        Significance level applied to the corrected p-values.
    correction : {"bh", "bonferroni", "none"}
        Multiple-testing correction across the tested features
        (see :mod:`mlcicd.drift.correction`).
    exclude : iterable of str
        Columns to leave out, typically the target.
    columns : sequence of str, optional
        Test only these (they must exist in both data sets). By default every column the
        two share, minus ``exclude``.
    drift_share : float in (0, 1], optional
        Data set rule. None (default): the data set drifted when *any* feature's corrected
        p-value is below ``alpha``. A number: when at least this share of the tested
        features drifted.
    psi_bins : int
        Bins of the population stability index.
    discrete_max_levels : int, default 10
        Rule for integer-coded features: a numeric feature whose non-missing values, in
        both data sets, are all whole numbers taking at most this many distinct values
        together is tested with chi-squared instead of KS (see Notes). ``0`` sends every
        numeric feature to KS.
    feature_tests : mapping of column to {"ks", "chi2"}, optional
        Override the rule per feature, e.g. ``{"rating": "ks"}`` for a scale you want
        treated as continuous, or ``{"zip_code": "chi2"}`` for codes with many levels.

    Returns
    -------
    DriftReport

    Notes
    -----
    Numeric features (in both data sets) get a two-sample Kolmogorov-Smirnov test plus
    PSI and the scaled Wasserstein distance; text, boolean and category features get a
    chi-squared test. Integer-coded numeric features with few levels (the
    ``discrete_max_levels`` rule) get the chi-squared test too, and keep PSI and
    Wasserstein: KS assumes a continuous distribution, and on data with many ties its
    p-values are far too large. On a 4-level feature (200 rows a side, 1,000 seeded
    no-drift samples) KS alarms in under 1 % of them at ``alpha = 0.05``, chi-squared in
    about 5 %, and chi-squared also finds a moderate shift more often (see
    ``tests/test_drift_detect.py``). Missing values are dropped per feature. A feature
    that cannot be tested gets a "not tested" row saying why (present on one side only, no values on
    one side, numbers on one side and text on the other, infinite values) and does not
    count in the verdict. No common column, an empty data set, or no testable feature at
    all is an :class:`~mlcicd.errors.InputError`.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> reference = pd.DataFrame({"age": rng.normal(40, 10, 500), "city": ["a", "b"] * 250})
    >>> current = pd.DataFrame({"age": rng.normal(45, 10, 500), "city": ["a", "b"] * 250})
    >>> report = detect_drift(reference, current)
    >>> report.drifted, report.drifted_features
    (True, ['age'])
    """
    _check_arguments(reference, current, alpha, correction, drift_share)
    _check_test_choice(discrete_max_levels, feature_tests)
    forced = dict(feature_tests or {})
    exclude = set(exclude)
    rows: dict[str, FeatureDrift] = {}
    if columns is not None:
        require_columns(reference, columns, source="reference")
        require_columns(current, columns, source="current")
        names = [c for c in columns if c not in exclude]
    else:
        names = [c for c in reference.columns if c in current.columns and c not in exclude]
        for c in reference.columns:
            if c not in current.columns and c not in exclude:
                rows[c] = _untested(c, "only in reference")
        for c in current.columns:
            if c not in reference.columns and c not in exclude:
                rows[c] = _untested(c, "only in current")
    if not names:
        raise InputError(
            "reference and current have no column in common to test "
            f"(reference: {_names(reference.columns)}; current: {_names(current.columns)})"
        )
    unknown = [c for c in forced if c not in names]
    if unknown:
        raise InputError(f"feature_tests names column(s) not tested: {_names(unknown)}")
    groups: dict[str, list[str]] = {"numeric": [], "discrete": [], "categorical": []}
    for name in names:
        kind, why = _kind(reference[name], current[name])
        if kind == "numeric":
            kind = _numeric_kind(
                reference[name], current[name], forced.get(name), discrete_max_levels
            )
        elif kind == "categorical" and forced.get(name) == "ks":
            raise InputError(f"feature_tests: {name!r} holds text, KS needs numbers")
        if kind == NOT_TESTED:
            rows[name] = _untested(name, why)
        else:
            groups[kind].append(name)
    rows.update(_numeric_rows(reference, current, groups["numeric"], psi_bins))
    rows.update(_categorical_rows(reference, current, groups["categorical"]))
    rows.update(_discrete_rows(reference, current, groups["discrete"], psi_bins))
    if not any(groups.values()):
        raise InputError(
            "no feature could be tested: "
            + "; ".join(f"{r.feature}: {r.note}" for r in rows.values())
        )
    order = [c for c in reference.columns if c in rows] + [
        c for c in current.columns if c in rows and c not in reference.columns
    ]
    features = _decide([rows[c] for c in order], alpha, correction)
    drifted, reason = _verdict(features, alpha, correction, drift_share)
    return DriftReport(
        features=features,
        drifted=drifted,
        reason=reason,
        alpha=alpha,
        correction=correction,
        drift_share=drift_share,
        n_reference=len(reference),
        n_current=len(current),
        reference=reference,
        current=current,
    )


def _check_arguments(
    reference: Any, current: Any, alpha: float, correction: str, drift_share: float | None
) -> None:
    for name, frame in (("reference", reference), ("current", current)):
        if not isinstance(frame, pd.DataFrame):
            raise InputError(f"{name} must be a pandas DataFrame, got {type(frame).__name__}")
        if len(frame) == 0:
            raise InputError(f"{name} data has no rows")
        repeated = frame.columns[frame.columns.duplicated()].unique().tolist()
        if repeated:
            raise InputError(f"{name} has repeated column name(s): {_names(repeated)}")
    check("detect_drift", "alpha", alpha, Real(0, 1, closed="neither"))
    check("detect_drift", "correction", correction, Choice(CORRECTIONS))
    if drift_share is not None:
        check("detect_drift", "drift_share", drift_share, Real(0, 1, closed="right"))


def _check_test_choice(discrete_max_levels: Any, feature_tests: Any) -> None:
    check("detect_drift", "discrete_max_levels", discrete_max_levels, Integer(low=0))
    if feature_tests is None:
        return
    if not isinstance(feature_tests, Mapping):
        raise InputError("feature_tests must map column names to 'ks' or 'chi2'")
    for name, test in feature_tests.items():
        if test not in FEATURE_TESTS:
            raise InputError(
                f"feature_tests: {name!r} -> {test!r}; expected one of {', '.join(FEATURE_TESTS)}"
            )


def is_discrete(reference: pd.Series, current: pd.Series, max_levels: int) -> bool:
    """Whether a numeric feature is integer-coded with at most ``max_levels`` levels.

    Both samples' non-missing values must be whole numbers (``2.0`` counts) and take
    at most ``max_levels`` distinct values together.

    >>> is_discrete(pd.Series([0, 1, 2, 3]), pd.Series([1.0, 2.0, None]), 10)
    True
    >>> is_discrete(pd.Series([0, 1, 2, 3]), pd.Series([0.5, 2.0]), 10)
    False
    >>> is_discrete(pd.Series(range(20)), pd.Series(range(20)), 10)
    False
    """
    if max_levels < 1:
        return False
    values = np.concatenate([reference.to_numpy(float), current.to_numpy(float)])
    values = values[~np.isnan(values)]
    if not np.array_equal(values, np.round(values)):
        return False
    return len(np.unique(values)) <= max_levels


def _numeric_kind(ref: pd.Series, cur: pd.Series, forced: str | None, max_levels: int) -> str:
    if forced is not None:
        return "discrete" if forced == "chi2" else "numeric"
    return "discrete" if is_discrete(ref, cur, max_levels) else "numeric"


def _kind(ref: pd.Series, cur: pd.Series) -> tuple[str, str]:
    for side, series in (("reference", ref), ("current", cur)):
        if series.isna().all():
            return NOT_TESTED, f"no values in {side}"
    ref_numeric, cur_numeric = _is_numeric(ref), _is_numeric(cur)
    if ref_numeric != cur_numeric:
        kinds = ("numbers", "text") if ref_numeric else ("text", "numbers")
        return NOT_TESTED, f"{kinds[0]} in reference but {kinds[1]} in current"
    if not ref_numeric:
        return "categorical", ""
    if np.isinf(ref.to_numpy(float)).any() or np.isinf(cur.to_numpy(float)).any():
        return NOT_TESTED, "infinite values"
    return "numeric", ""


def _is_numeric(series: pd.Series) -> bool:
    dtype = series.dtype
    return pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)


def _numeric_rows(
    reference: pd.DataFrame, current: pd.DataFrame, names: list[str], psi_bins: int
) -> dict[str, FeatureDrift]:
    if not names:
        return {}
    ks = ks_2samp_columns(reference[names], current[names])
    psi, wasserstein = PopulationStabilityIndex(bins=psi_bins), Wasserstein()
    rows = {}
    for j, name in enumerate(names):
        psi_result = psi.test(reference[name], current[name])
        rows[name] = FeatureDrift(
            feature=name,
            test="ks",
            statistic=float(ks.statistic[j]),
            pvalue=float(ks.pvalue[j]),
            psi=psi_result.statistic,
            wasserstein=wasserstein.test(reference[name], current[name]).statistic,
            note=psi_result.note,
        )
    return rows


def _categorical_rows(
    reference: pd.DataFrame, current: pd.DataFrame, names: list[str]
) -> dict[str, FeatureDrift]:
    chi2 = ChiSquared()
    rows = {}
    for name in names:
        result = chi2.test(reference[name], current[name])
        rows[name] = FeatureDrift(
            feature=name,
            test="chi2",
            statistic=result.statistic,
            pvalue=float(result.pvalue),
            note=result.note,
        )
    return rows


def _discrete_rows(
    reference: pd.DataFrame, current: pd.DataFrame, names: list[str], psi_bins: int
) -> dict[str, FeatureDrift]:
    chi2, wasserstein = ChiSquared(), Wasserstein()
    psi = PopulationStabilityIndex(bins=psi_bins)
    rows = {}
    for name in names:
        result = chi2.test(reference[name], current[name])
        psi_result = psi.test(reference[name], current[name])
        levels = len(pd.concat([reference[name], current[name]]).dropna().unique())
        notes = [f"integer-coded, {levels} levels: chi-squared", result.note, psi_result.note]
        rows[name] = FeatureDrift(
            feature=name,
            test="chi2",
            statistic=result.statistic,
            pvalue=float(result.pvalue),
            psi=psi_result.statistic,
            wasserstein=wasserstein.test(reference[name], current[name]).statistic,
            note="; ".join(n for n in notes if n),
        )
    return rows


def _decide(features: list[FeatureDrift], alpha: float, correction: str) -> list[FeatureDrift]:
    corrected = adjust_pvalues([f.pvalue for f in features], correction)
    decided = []
    for feature, p in zip(features, corrected, strict=True):
        drifted = feature.tested and not math.isnan(p) and bool(p < alpha)
        values = {**feature.__dict__, "corrected_pvalue": float(p), "drifted": drifted}
        decided.append(FeatureDrift(**values))
    return decided


def _verdict(
    features: list[FeatureDrift], alpha: float, correction: str, drift_share: float | None
) -> tuple[bool, str]:
    tested = [f for f in features if f.tested]
    flagged = [f.feature for f in tested if f.drifted]
    rule = f"corrected p < {alpha} ({correction})"
    counted = f"{len(flagged)} of {len(tested)} tested features drifted"
    if flagged:
        counted += " (" + ", ".join(map(str, flagged[:10])) + (", ..." if len(flagged) > 10 else "")
        counted += ")"
    untested = len(features) - len(tested)
    tail = f"; {untested} not tested" if untested else ""
    if drift_share is None:
        return bool(flagged), f"{counted}; rule: any feature with {rule}{tail}"
    share = len(flagged) / len(tested)
    drifted = bool(flagged) and share >= drift_share
    return drifted, f"{counted}; rule: at least {drift_share:.0%} of features with {rule}{tail}"


def _untested(name: Any, why: str) -> FeatureDrift:
    return FeatureDrift(feature=name, test=NOT_TESTED, note=why)


def _names(columns: Iterable[Any]) -> str:
    listed = [str(c) for c in columns]
    return ", ".join(listed[:8]) + (", ..." if len(listed) > 8 else "") if listed else "none"
