"""Atomic writes and careful reading of user files."""

from __future__ import annotations

import os
import stat

import pytest

from mlcicd.errors import InputError
from mlcicd.io import atomic_write_bytes, read_csv, read_json, write_json


def test_atomic_write_replaces_content_and_leaves_no_temp_file(tmp_path):
    target = tmp_path / "out.txt"
    atomic_write_bytes(target, b"first")
    atomic_write_bytes(target, b"second")
    assert target.read_bytes() == b"second"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_atomic_write_gives_readable_files_not_private_temp_modes(tmp_path):
    target = tmp_path / "model.json"
    atomic_write_bytes(target, b"{}")
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    os.chmod(target, 0o600)
    atomic_write_bytes(target, b"{}")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_failed_write_keeps_the_previous_file(tmp_path, monkeypatch):
    target = tmp_path / "keep.txt"
    atomic_write_bytes(target, b"precious")

    def crash(*_args, **_kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", crash)
    with pytest.raises(OSError):
        atomic_write_bytes(target, b"half")
    assert target.read_bytes() == b"precious"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_write_json_turns_nan_into_null(tmp_path):
    path = write_json(tmp_path / "m.json", {"a": float("nan"), "b": 1.5})
    assert read_json(path) == {"a": None, "b": 1.5}


def test_read_json_names_missing_keys(tmp_path):
    path = write_json(tmp_path / "m.json", {"accuracy": 0.9})
    with pytest.raises(InputError, match="'f1'"):
        read_json(path, required_keys=["accuracy", "f1"])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"a,b\n", "no data rows"),
        (b"\x00\x01\x02\xff" * 10, "binary"),
        (b"\xff\xfe caf\xe9\n1,2\n", "UTF-8"),
    ],
)
def test_read_csv_refuses_what_is_not_a_data_set(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        read_csv(path)


def test_read_csv_names_missing_columns(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("x,y\n1,2\n")
    with pytest.raises(InputError, match="'target'"):
        read_csv(path, required_columns=["target"])
