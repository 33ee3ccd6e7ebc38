"""Renderings of a model comparison: the pull-request comment, JSON and a plot.

:class:`mlcicd.compare.ComparisonReport` holds the numbers and the verdict; this module
only presents them, so a change of wording in the comment cannot change a verdict, and
the comparison can be read without matplotlib. Each function takes the report (any
object with its attributes) and is also reachable as a method of the report
(``report.to_markdown()``, ``report.to_json()``, ``report.plot()``).

The comment starts with the hidden marker :data:`MARKER`, which lets the pull-request
workflow find and update its own comment instead of adding one on every push.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from mlcicd.markdown import table

if TYPE_CHECKING:
    from mlcicd.compare import ComparisonReport

__all__ = ["MARKER", "plot", "pp", "to_dict", "to_json", "to_markdown"]

#: Hidden HTML comment that identifies the bot's comment on a pull request.
MARKER = "<!-- mlcicd-model-check -->"


def to_markdown(report: ComparisonReport, include_timing: bool = True) -> str:
    """The pull-request comment: marker, heading, table, verdict and details.

    ``include_timing=False`` leaves out prediction times, which differ from run to run,
    so that a notebook's output stays the same on every execution.
    """
    status = "passes ✅" if report.passed else "fails ❌"
    failures, checked = set(report.failures), set(report.checked)
    rows = [(name, f"{report.baseline_metrics[name]:.4f}",
             f"{report.candidate_metrics[name]:.4f}", pp(change),
             "❌" if name in failures else "✅" if name in checked else "–")
            for name, change in report.changes.items()]
    lines = [
        MARKER,
        f"## Model check: candidate {status}",
        "",
        f"Baseline `{report.baseline_label}` vs candidate `{report.candidate_label}` "
        f"on {report.n_rows:,} test rows.",
        "",
        table(rows, ("Metric", "Baseline", "Candidate", "Change", "Check"), align="lrrrc"),
    ]
    lines += ["", f"Checked against the largest allowed drop: {', '.join(report.checked)}; "
              "rows marked – are shown for information.",
              "", f"**{report.verdict}**", "", "<details>",
              "<summary>Statistics, size and timing</summary>", ""]
    lines += [f"- {item}" for item in _details(report, include_timing)]
    lines += ["", "</details>"]
    return "\n".join(lines) + "\n"


def _details(report: ComparisonReport, include_timing: bool) -> list[str]:
    ci = report.accuracy_ci
    if ci.low > 0:
        reading = "the whole interval is above zero: the candidate is more accurate."
    elif ci.high < 0:
        reading = "the whole interval is below zero: the candidate is less accurate."
    else:
        reading = "the interval contains zero: the difference is within the noise."
    items = [
        f"**Accuracy difference** (candidate - baseline): {pp(ci.estimate)}, "
        f"{ci.confidence:.0%} paired bootstrap interval [{pp(ci.low)}, {pp(ci.high)}] "
        f"({ci.n_resamples:,} resamples, seed {report.seed}); {reading}",
        "**Exact McNemar test** on the paired predictions: "
        + report.mcnemar.interpret(names=("the baseline", "the candidate")),
        f"**Model size**: baseline {_size(report.baseline_size_bytes)}, "
        f"candidate {_size(report.candidate_size_bytes)}.",
    ]
    if include_timing:
        items.append(
            "**Prediction time per 1,000 rows** (best of several runs): baseline "
            f"{_ms(report.baseline_ms_per_1000)}, candidate {_ms(report.candidate_ms_per_1000)}."
        )
    return items


def to_dict(report: ComparisonReport) -> dict[str, Any]:
    """Every field plus the derived ``passed``, ``failures`` and ``changes``, JSON-ready."""
    data = asdict(report)
    data["passed"] = report.passed
    data["failures"] = report.failures
    data["changes"] = report.changes
    return data


def to_json(report: ComparisonReport) -> str:
    """:func:`to_dict` as indented, key-sorted JSON text."""
    return json.dumps(to_dict(report), indent=2, sort_keys=True)


def plot(report: ComparisonReport, ax: Any = None) -> Any:
    """Bar chart of each metric's change in percentage points, with the allowed drop."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 0.4 * len(report.changes) + 1))
    names = list(report.changes)
    values = [100 * report.changes[name] for name in names]
    failures, checked = set(report.failures), set(report.checked)
    colors = ["tab:red" if name in failures else "tab:green" if name in checked
              else "tab:grey" for name in names]
    ax.barh(names, values, color=colors)
    ax.axvline(-100 * report.max_regression, color="black", linestyle="--",
               label="largest allowed drop")
    ax.axvline(0, color="grey", linewidth=0.8)
    ax.invert_yaxis()
    ax.set_xlabel("candidate - baseline (percentage points)")
    ax.legend(loc="lower right")
    return ax


def pp(fraction: float, signed: bool = True) -> str:
    """A fraction as percentage points: ``+1.25 pp`` (signed) or ``1.0 pp``.

    >>> pp(0.0125), pp(-0.00001), pp(0.01, signed=False)
    ('+1.25 pp', '+0.00 pp', '1.0 pp')
    """
    value = 100 * fraction
    if signed and abs(value) < 0.005:
        value = 0.0
    return f"{value:+.2f} pp" if signed else f"{value:.1f} pp"


def _size(n_bytes: int | None) -> str:
    if n_bytes is None:
        return "unknown"
    if n_bytes < 1024:
        return f"{n_bytes} B"
    if n_bytes < 1024**2:
        return f"{n_bytes / 1024:.1f} KiB"
    return f"{n_bytes / 1024**2:.2f} MiB"


def _ms(value: float | None) -> str:
    return "unknown" if value is None else f"{value:.2f} ms"
