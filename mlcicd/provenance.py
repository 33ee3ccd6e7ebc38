"""Provenance of a saved model: library versions, data fingerprint, config, features.

What :func:`mlcicd.artifacts.save_model` records next to a model so that anyone can
tell later which code and which data made it. Kept apart from the storage protocol
(:mod:`mlcicd.artifacts`, :mod:`mlcicd.artifact_store`), which re-exports
:func:`library_versions` and :func:`data_fingerprint`.
"""

from __future__ import annotations

import hashlib
import platform
from typing import TYPE_CHECKING, Any

import numpy as np

from mlcicd import __version__
from mlcicd.errors import InputError
from mlcicd.io import python_scalar

if TYPE_CHECKING:  # imported where a frame is handled: reading metadata needs none
    import pandas as pd

__all__ = ["canonical_csv", "config_dict", "data_fingerprint", "feature_names", "classes",
           "fingerprint_of", "library_versions"]


def library_versions() -> dict[str, str]:
    """Versions of the libraries a saved model depends on.

    >>> sorted(library_versions())
    ['mlcicd', 'numpy', 'pandas', 'python', 'scikit-learn', 'skops']
    """
    # Imported here, not at the top: only saving a model asks for the versions, and
    # importing scikit-learn costs every command that merely reads metadata a second.
    import pandas as pd
    import sklearn
    import skops

    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "scikit-learn": sklearn.__version__,
        "skops": skops.__version__,
        "mlcicd": __version__,
    }


def data_fingerprint(df: pd.DataFrame) -> str:
    """SHA-256 of the data's canonical CSV bytes (header, no index, ``\\n`` line ends).

    Two frames with the same columns, order and values have the same fingerprint,
    whatever their index; a single changed cell changes it.

    >>> import pandas as pd
    >>> a = pd.DataFrame({"x": [1.0, 2.0], "y": [0, 1]})
    >>> data_fingerprint(a) == data_fingerprint(a.set_axis([10, 11]))
    True
    >>> data_fingerprint(a) == data_fingerprint(a.assign(x=[1.0, 2.5]))
    False
    >>> len(data_fingerprint(a))
    64
    """
    import pandas as pd

    if not isinstance(df, pd.DataFrame):
        raise InputError(f"data_fingerprint needs a pandas DataFrame, got {type(df).__name__}")
    return hashlib.sha256(canonical_csv(df)).hexdigest()


def canonical_csv(df: pd.DataFrame) -> bytes:
    return df.to_csv(index=False, lineterminator="\n").encode("utf-8")


def config_dict(config: Any) -> dict[str, Any] | None:
    if config is None:
        return None
    if hasattr(config, "to_dict"):
        return dict(config.to_dict())
    return dict(config)


def fingerprint_of(data: pd.DataFrame | str | None) -> str | None:
    if data is None or isinstance(data, str):
        return data
    return data_fingerprint(data)


def feature_names(model: Any) -> list[str] | None:
    names = getattr(model, "feature_names_in_", None)
    return None if names is None else [str(n) for n in names]


def classes(model: Any) -> list[Any] | None:
    labels = getattr(model, "classes_", None)
    return None if labels is None else [python_scalar(c) for c in np.asarray(labels)]
