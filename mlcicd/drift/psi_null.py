"""PSI when nothing moved: how its no-drift value depends on the sample size.

The population stability index of two samples of the *same* distribution is not 0: each
bin's share is estimated from a finite sample, and the PSI adds up those estimation
errors. For ``b`` bins and two samples of ``n`` points it behaves like a chi-squared
variable with ``b - 1`` degrees of freedom scaled by ``2 / n``, so its no-drift mean is
close to ``2 (b - 1) / n`` once every bin holds a few dozen points (about 0.09 at 200
points a side with 10 bins); below that, bins left empty on one side add large terms
and the mean is higher still (about 0.5 at 50 points a side).
The usual rules of thumb (below 0.1 stable, above 0.25 major) were made for large
samples; on small ones they raise alarms when nothing moved.

:func:`no_drift_psi` measures the no-drift PSI at several sizes; :func:`quiet_size` reads
off the smallest size from which a threshold stops raising false alarms in most repeats.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from mlcicd.drift.psi import PopulationStabilityIndex
from mlcicd.errors import InputError
from mlcicd.params import Integer, Real, check

__all__ = ["no_drift_psi", "quiet_size"]


def no_drift_psi(sizes: Iterable[int], *, repeats: int, bins: int = 10,
                 reference_size: int | None = None, seed: int = 0) -> dict[int, np.ndarray]:
    """PSI of ``repeats`` pairs of standard-normal samples, for each current size ``n``.

    Both samples of a pair come from the same distribution, so every value is a PSI of
    "no drift". The current sample has ``n`` points; the reference has
    ``reference_size`` (a training set's size is fixed while the batches vary) or, when
    None, ``n`` too. The draws are seeded by ``seed`` and the size, so adding a size
    does not change the values of the others.

    >>> table = no_drift_psi([50, 2000], repeats=30, seed=0)
    >>> bool(table[50].mean() > 0.25 > 0.02 > table[2000].mean())
    True
    >>> fixed = no_drift_psi([50, 2000], repeats=30, reference_size=400, seed=0)
    >>> bool(table[2000].mean() < fixed[2000].mean() < fixed[50].mean() < table[50].mean())
    True
    """
    repeats = check("no_drift_psi", "repeats", repeats, Integer(low=1))
    if reference_size is not None:
        check("no_drift_psi", "reference_size", reference_size, Integer(low=2))
    index = PopulationStabilityIndex(bins=bins)
    table = {}
    for n in sizes:
        n = check("no_drift_psi", "sizes", n, Integer(low=2))
        rng = np.random.default_rng([seed, n])
        n_ref = n if reference_size is None else reference_size
        table[n] = np.array([index.test(rng.normal(size=n_ref), rng.normal(size=n)).statistic
                             for _ in range(repeats)])
    if not table:
        raise InputError("no_drift_psi: give at least one sample size")
    return table


def quiet_size(null_psi: Mapping[int, Any], threshold: float = 0.1) -> int | None:
    """The smallest size from which ``threshold`` stops raising false alarms in most repeats.

    ``null_psi`` maps a sample size to its no-drift PSI values (:func:`no_drift_psi`). A
    value at or above ``threshold`` is a false alarm. A size is *quiet* when fewer than
    half of its values are false alarms; the answer is the smallest size that is quiet
    and followed only by quiet sizes (a quiet size below a noisy one was luck). None
    when the largest size is not quiet.

    >>> quiet_size({50: [0.3, 0.4, 0.05], 200: [0.12, 0.05, 0.08], 800: [0.01, 0.02, 0.03]})
    200
    >>> quiet_size({50: [0.3, 0.1]}) is None       # 0.1 counts: half is not fewer than half
    True
    """
    threshold = check("quiet_size", "threshold", threshold, Real(0, None, closed="neither"))
    if not null_psi:
        raise InputError("quiet_size: give the no-drift PSI of at least one sample size")
    answer = None
    for n in sorted(null_psi, reverse=True):
        values = np.asarray(null_psi[n], dtype=float)
        if values.size == 0 or np.mean(values >= threshold) >= 0.5:
            break
        answer = int(n)
    return answer
