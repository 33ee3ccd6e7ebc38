"""Stable hashing of request keys into buckets in ``[0, 1)``.

Sticky assignment (the same user always sees the same model) needs a hash that gives
the same answer in every process, on every machine, forever. Python's built-in
``hash`` does not: string hashes are salted per process (``PYTHONHASHSEED``), so a
user would flip between models each time a server restarts. We use BLAKE2b from
:mod:`hashlib` instead, which is defined by a standard and has no hidden seed.

Notes
-----
The 8-byte ``blake2b`` digest of the key (salted) read as an unsigned integer, keeping
its top 53 bits ``u``, gives the bucket ``u / 2**53``, uniform on ``[0, 1)``. A
request goes to the first slot whose cumulative weight exceeds its bucket, so raising
a canary's weight from 5 % to 10 % only *adds* users to the canary: nobody who already
saw it is moved back.
Different salts give independent assignments (an A/B test and a canary on the same
users do not pick the same people).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import numpy as np

__all__ = ["stable_bucket", "stable_buckets"]

# Keep 53 bits (a double's mantissa) so that the division can never round up to 1.0.
_SCALE = float(2**53)


def _digest(key: str, salt: bytes) -> int:
    raw = hashlib.blake2b(str(key).encode("utf-8"), digest_size=8, salt=salt).digest()
    return int.from_bytes(raw, "big") >> 11


def _salt_bytes(salt: str) -> bytes:
    # blake2b accepts a salt of at most 16 bytes: longer salts are folded by hashing.
    encoded = salt.encode("utf-8")
    if len(encoded) > 16:
        encoded = hashlib.blake2b(encoded, digest_size=16).digest()
    return encoded


def stable_bucket(key: object, salt: str = "") -> float:
    """Map ``key`` to a number in ``[0, 1)`` that is the same in every process.

    Parameters
    ----------
    key : object
        The request key (user id, session id...); converted with ``str``.
    salt : str, default ""
        Namespace of the assignment: different salts give independent buckets.

    Returns
    -------
    float
        The bucket, uniform on ``[0, 1)`` over many keys.

    Examples
    --------
    >>> b = stable_bucket("user-42", salt="canary")
    >>> 0.0 <= b < 1.0
    True
    >>> b == stable_bucket("user-42", salt="canary")
    True
    >>> b == stable_bucket("user-42", salt="ab-test")
    False
    """
    return _digest(str(key), _salt_bytes(salt)) / _SCALE


def stable_buckets(keys: Iterable[object], salt: str = "") -> np.ndarray:
    """Vectorised :func:`stable_bucket`: one float per key, same values, same order.

    Examples
    --------
    >>> keys = [f"user-{i}" for i in range(10_000)]
    >>> buckets = stable_buckets(keys, salt="demo")
    >>> bool(buckets[7] == stable_bucket("user-7", salt="demo"))
    True
    >>> bool(abs((buckets < 0.25).mean() - 0.25) < 0.02)
    True
    """
    salt_bytes = _salt_bytes(salt)
    blake = hashlib.blake2b
    values = [
        int.from_bytes(blake(str(k).encode("utf-8"), digest_size=8, salt=salt_bytes).digest())
        >> 11
        for k in keys
    ]
    return np.array(values, dtype=np.float64) / _SCALE
