"""Figures for the deployment strategies (matplotlib imported only when drawing)."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["plot_canary", "plot_traffic"]


def plot_traffic(router: Any, window: int = 200) -> Any:
    """Share of requests answered by each version, over a moving window of requests.

    Parameters
    ----------
    router : Router
    window : int, default 200
        Number of consecutive requests per point, centred on it. Near the first and
        last requests the window holds fewer requests, and the share is taken over
        those alone (a stream sent wholly to one version is at 1.0 up to the edges).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    events = router.events_frame()
    fig, ax = plt.subplots(figsize=(7, 3.2))
    if len(events):
        ids = events["request_id"].to_numpy()
        for version in sorted(events["version"].dropna().unique()):
            hit = (events["version"] == version).to_numpy(dtype=float)
            ax.plot(ids, _moving_share(hit, window), label=version)
        ax.legend(title="version")
    ax.set_xlabel("request")
    ax.set_ylabel("share of traffic")
    ax.set_ylim(-0.02, 1.02)
    fig.tight_layout()
    return fig


def _moving_share(hit: np.ndarray, window: int) -> np.ndarray:
    """Centred moving mean of ``hit``, each point divided by the requests its window holds.

    A plain ``np.convolve(hit, ones / window, mode="same")`` pads with zeros, which
    would pull a constant 1.0 down to about 0.5 at both ends.

    >>> _moving_share(np.ones(6), window=4).tolist()
    [1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    >>> _moving_share(np.array([1.0, 1.0, 0.0, 0.0]), window=2).tolist()
    [1.0, 1.0, 0.5, 0.0]
    """
    kernel = np.ones(max(1, min(window, len(hit))))
    counts = np.convolve(np.ones_like(hit), kernel, mode="same")
    return np.convolve(hit, kernel, mode="same") / counts


def plot_canary(release: Any) -> Any:
    """Canary weight (top) and guardrail metrics (bottom) against requests served.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    frame = release.timeline_frame()
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 5), sharex=True)
    start = release.history_[0]["requests_so_far"] if release.history_ else 0
    xs = [start]
    weights = [release.plan.steps[0]]
    for _, row in frame.iterrows():
        xs.append(row["requests_so_far"])
        weights.append(row["weight"])
        after = {"abort": 0.0, "inconclusive": 0.0, "promote": 1.0}.get(row["decision"])
        if after is None:
            idx = min(int(row["step"]) + 1, len(release.plan.steps) - 1)
            after = release.plan.steps[idx]
        xs.append(row["requests_so_far"])
        weights.append(after)
    top.step(xs, np.array(weights) * 100, where="post", color="#dd8452")
    for _, row in frame.iterrows():
        if row["decision"] in ("abort", "promote"):
            top.annotate(row["decision"], (row["requests_so_far"], 50), ha="right")
    top.set_ylabel("canary traffic (%)")
    top.set_ylim(-3, 103)
    top.set_title(f"Canary release of {getattr(release.candidate, 'version', '?')}: "
                  f"{release.status_}")
    if len(frame):
        x = frame["requests_so_far"]
        bottom.plot(x, frame["canary_accuracy"], "o-", label="canary accuracy")
        bottom.plot(x, frame["stable_accuracy"], "s--", label="stable accuracy")
        bottom.plot(x, frame["error_rate"], "^:", label="canary error rate")
        bottom.legend(loc="best", fontsize="small")
    bottom.set_xlabel("requests served")
    bottom.set_ylabel("metric")
    fig.tight_layout()
    return fig
