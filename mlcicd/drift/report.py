"""The drift report: one row per feature, one verdict for the data set."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mlcicd.markdown import table

__all__ = ["FeatureDrift", "DriftReport", "NOT_TESTED"]

NOT_TESTED = "not tested"


@dataclass(frozen=True)
class FeatureDrift:
    """The drift evidence for one feature.

    ``test`` is ``"ks"`` (numeric), ``"chi2"`` (categorical, or integer-coded with few
    levels: see :func:`~mlcicd.drift.detect_drift`) or ``"not tested"``, in which case
    the numbers are NaN and ``note`` says why. ``psi`` and ``wasserstein`` are NaN for
    text categories.
    """

    feature: str
    test: str
    statistic: float = math.nan
    pvalue: float = math.nan
    corrected_pvalue: float = math.nan
    psi: float = math.nan
    wasserstein: float = math.nan
    drifted: bool = False
    note: str = ""

    @property
    def tested(self) -> bool:
        return self.test != NOT_TESTED


@dataclass
class DriftReport:
    """Per-feature drift tests and the data set's verdict, from :func:`detect_drift`.

    Attributes
    ----------
    features : list of FeatureDrift
        In the reference's column order.
    drifted : bool
        The verdict; ``reason`` says how it was reached.
    alpha, correction, drift_share : the decision rule used
        A feature drifted when its corrected p-value is below ``alpha``. The data set
        drifted when any feature did (``drift_share`` None) or when at least that share of
        the tested features did.
    n_reference, n_current : int
        Rows in each data set.
    """

    features: list[FeatureDrift]
    drifted: bool
    reason: str
    alpha: float
    correction: str
    drift_share: float | None
    n_reference: int
    n_current: int
    reference: pd.DataFrame | None = field(default=None, repr=False, compare=False)
    current: pd.DataFrame | None = field(default=None, repr=False, compare=False)

    @property
    def drifted_features(self) -> list[str]:
        return [f.feature for f in self.features if f.drifted]

    @property
    def untested_features(self) -> list[str]:
        return [f.feature for f in self.features if not f.tested]

    @property
    def share_drifted(self) -> float:
        tested = [f for f in self.features if f.tested]
        return sum(f.drifted for f in tested) / len(tested) if tested else 0.0

    def ranked(self) -> list[FeatureDrift]:
        """Tested features, most drifted first (smallest corrected p, then largest PSI)."""
        tested = [f for f in self.features if f.tested]
        return sorted(tested, key=lambda f: (f.corrected_pvalue, -_or_zero(f.psi), f.feature))

    def to_frame(self) -> pd.DataFrame:
        """One row per feature (columns as in :class:`FeatureDrift`)."""
        columns = list(FeatureDrift.__dataclass_fields__)
        return pd.DataFrame([asdict(f) for f in self.features], columns=columns)

    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-ready data (NaN written as None)."""
        return {
            "drifted": self.drifted,
            "reason": self.reason,
            "alpha": self.alpha,
            "correction": self.correction,
            "drift_share": self.drift_share,
            "n_reference": self.n_reference,
            "n_current": self.n_current,
            "drifted_features": self.drifted_features,
            "untested_features": self.untested_features,
            "features": [
                {k: None if _is_nan(v) else v for k, v in asdict(f).items()}
                for f in self.features
            ],
        }

    def summary(self) -> str:
        """One line: the verdict and why."""
        return f"{'DRIFT' if self.drifted else 'no drift'}: {self.reason}"

    def to_markdown(self) -> str:
        """A markdown table of the features and the verdict, e.g. for a PR comment."""
        lines = [
            f"**Data drift: {'detected' if self.drifted else 'not detected'}** - {self.reason}",
            "",
            table(
                [(f"`{f.feature}`", f.test, _fmt(f.statistic), _fmt_p(f.pvalue),
                  _fmt_p(f.corrected_pvalue), _fmt(f.psi), _fmt(f.wasserstein),
                  "yes" if f.drifted else "no", f.note) for f in self.features],
                ("feature", "test", "statistic", "p-value", "corrected p", "PSI",
                 "Wasserstein", "drifted", "note"),
                align="llrrrrrcl",
            ),
        ]
        lines.append("")
        lines.append(
            f"Reference: {self.n_reference} rows; current: {self.n_current} rows; "
            f"alpha {self.alpha}, correction {self.correction}."
        )
        return "\n".join(lines) + "\n"

    def plot(self, top: int = 4) -> Any:
        """Reference vs current distributions of the ``top`` most drifted features.

        Numeric features are drawn as overlaid histograms on shared bins, categorical ones
        as side-by-side bars of category shares. Returns the matplotlib Figure.
        """
        import matplotlib.pyplot as plt

        if self.reference is None or self.current is None:
            raise ValueError("this report does not hold the data to plot")
        chosen = self.ranked()[: max(int(top), 1)]
        fig, axes = plt.subplots(1, max(len(chosen), 1), figsize=(3.6 * max(len(chosen), 1), 3))
        axes = np.atleast_1d(axes)
        for ax, feature in zip(axes, chosen, strict=False):
            ref = self.reference[feature.feature].dropna()
            cur = self.current[feature.feature].dropna()
            if feature.test == "ks":
                _histograms(ax, ref.to_numpy(float), cur.to_numpy(float))
            else:
                _bars(ax, ref.astype(str), cur.astype(str))
            flag = "drifted" if feature.drifted else "stable"
            ax.set_title(f"{feature.feature}\np={_fmt_p(feature.corrected_pvalue)} ({flag})",
                         fontsize=9)
        if not chosen:
            axes[0].text(0.5, 0.5, "no feature tested", ha="center", va="center")
            axes[0].set_axis_off()
        else:
            axes[0].legend(fontsize=8)
        fig.suptitle(self.summary(), fontsize=9)
        fig.tight_layout()
        return fig


def _histograms(ax: Any, ref: np.ndarray, cur: np.ndarray) -> None:
    edges = np.histogram_bin_edges(np.concatenate([ref, cur]), bins=30)
    ax.hist(ref, bins=edges, density=True, alpha=0.5, label="reference")
    ax.hist(cur, bins=edges, density=True, alpha=0.5, label="current")


def _bars(ax: Any, ref: pd.Series, cur: pd.Series) -> None:
    shares = pd.DataFrame(
        {"reference": ref.value_counts(normalize=True), "current": cur.value_counts(normalize=True)}
    ).fillna(0.0)
    x = np.arange(len(shares))
    ax.bar(x - 0.2, shares["reference"], width=0.4, label="reference")
    ax.bar(x + 0.2, shares["current"], width=0.4, label="current")
    ax.set_xticks(x, [str(c) for c in shares.index], rotation=45, fontsize=7)


def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def _or_zero(value: float) -> float:
    return 0.0 if math.isnan(value) else value


def _fmt(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.3f}"


def _fmt_p(value: float) -> str:
    if math.isnan(value):
        return "-"
    return f"{value:.2e}" if value < 1e-3 else f"{value:.3f}"
