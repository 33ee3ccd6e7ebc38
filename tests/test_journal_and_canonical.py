"""The append-only journal and the canonical skops bytes, tested on their own."""

from __future__ import annotations

import io
import zipfile

import pytest
import skops.io as sio
from sklearn.ensemble import RandomForestClassifier

from mlcicd.canonical import FIXED_TIMESTAMP, canonical_skops
from mlcicd.errors import InputError
from mlcicd.journal import append_record, exclusive_lock, read_records


def test_a_torn_line_in_the_middle_is_skipped_and_the_rest_kept(tmp_path):
    path = tmp_path / "h.jsonl"
    append_record(path, {"n": 1})
    with open(path, "ab") as handle:
        handle.write(b'{"n": 2, "cut')
    append_record(path, {"n": 3})
    journal = read_records(path)
    assert [r["n"] for r in journal.records] == [1, 3]
    assert journal.skipped_lines == [2]


def test_a_line_that_is_not_a_record_is_corruption_not_a_crash(tmp_path):
    path = tmp_path / "h.jsonl"
    path.write_text('{"n": 1}\nhello\n{"n": 2}\n')
    with pytest.raises(InputError, match=r"h.jsonl:2: not a JSON line"):
        read_records(path)
    path.write_text('{"n": 1}\n[1, 2]\n')
    with pytest.raises(InputError, match="not a JSON object"):
        read_records(path)


def test_an_append_waits_for_the_lock_then_fails_clearly(tmp_path):
    path = tmp_path / "h.jsonl"
    with exclusive_lock(tmp_path / ".h.jsonl.lock"), pytest.raises(
            InputError, match="another process is writing this journal"):
        append_record(path, {"n": 1}, timeout=0.1)
    assert read_records(path).records == []


def test_nan_is_stored_as_null(tmp_path):
    path = append_record(tmp_path / "h.jsonl", {"x": float("nan")})
    assert read_records(path).records == [{"x": None}]


@pytest.fixture(scope="module")
def forest_bytes():
    X, y = [[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 0.0]], [0, 0, 1, 1]
    return sio.dumps(RandomForestClassifier(n_estimators=3, random_state=0).fit(X, y))


def test_canonical_zip_has_fixed_times_sorted_members_and_no_memory_ids(forest_bytes):
    canonical = canonical_skops(forest_bytes)
    with zipfile.ZipFile(io.BytesIO(canonical)) as archive:
        infos = archive.infolist()
        names = [info.filename for info in infos]
        schema = archive.read("schema.json").decode()
    assert names == sorted(names)
    assert {info.date_time for info in infos} == {FIXED_TIMESTAMP}
    assert all(len(name.split(".")[0]) <= 6 for name in names if name != "schema.json")
    # Memory addresses are 12+ digit numbers; renumbered ids stay small.
    assert max(int(part.split(",")[0].split("}")[0]) for part in
               schema.split('"__id__": ')[1:]) < 10_000
    assert canonical_skops(canonical) == canonical  # idempotent
    model = sio.loads(canonical, trusted=["numpy.dtype", "sklearn.tree._tree.Tree"])
    assert model.predict([[3.0, 0.0]]).tolist() == [1]


def test_a_zip_that_is_not_skops_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("other.txt", "x")
    with pytest.raises(ValueError, match="not a skops file"):
        canonical_skops(buffer.getvalue())
