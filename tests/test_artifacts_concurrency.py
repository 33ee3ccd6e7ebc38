"""An artifact folder under concurrent writers, readers, kill -9 and repeated training.

Processes are forked from the test process (imports already done), so a trial costs
milliseconds of start-up and a test can afford dozens of them.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from sklearn.dummy import DummyClassifier

from mlcicd.artifact_store import deployment_numbers, deployment_snapshot
from mlcicd.artifacts import load_model, read_metadata, read_metrics, save_model
from mlcicd.errors import ArtifactError

FORK = multiprocessing.get_context("fork")


def _model(label: int) -> DummyClassifier:
    """A tiny model whose identity (the constant it answers) is in its metrics too."""
    return DummyClassifier(strategy="constant", constant=label).fit([[0.0], [1.0]],
                                                                    [label, label + 1])


def _save(folder: Path, label: int) -> None:
    save_model(_model(label), folder, metrics={"accuracy": 0.25, "label": label})


def _check_consistent(folder: Path) -> int:
    """Load the artifact; its metrics must belong to its model. Returns the label."""
    loaded = load_model(folder)
    label = int(loaded.model.constant)
    assert read_metrics(folder, metadata=loaded.metadata)["label"] == label
    assert loaded.metadata["metrics"]["label"] == label
    return label


def _writer(folder: str, labels: list[int]) -> None:
    for label in labels:
        _save(Path(folder), label)


def _reader(folder: str, stop, result: str) -> None:
    loads = failures = 0
    errors: list[str] = []
    while not stop.is_set():
        try:
            _check_consistent(Path(folder))
            loads += 1
        except (ArtifactError, AssertionError) as exc:
            failures += 1
            errors.append(f"{type(exc).__name__}: {exc}")
    Path(result).write_text(json.dumps({"loads": loads, "failures": failures,
                                        "errors": errors[:3]}))


def test_many_writers_and_readers_lose_no_commit_and_no_load(tmp_path):
    folder = tmp_path / "art"
    _save(folder, 0)
    stop = FORK.Event()
    results = [tmp_path / f"reader-{r}.json" for r in range(3)]
    readers = [FORK.Process(target=_reader, args=(str(folder), stop, str(path)))
               for path in results]
    writers = [FORK.Process(target=_writer, args=(str(folder), [w * 10 + i for i in range(1, 7)]))
               for w in range(1, 5)]
    for process in readers + writers:
        process.start()
    for process in writers:
        process.join(60)
    stop.set()
    for process in readers:
        process.join(30)
    assert [p.exitcode for p in writers + readers] == [0] * 7
    counts = [json.loads(path.read_text()) for path in results]
    assert sum(c["failures"] for c in counts) == 0, counts
    assert sum(c["loads"] for c in counts) >= 30
    print(f"4 writers x 6 saves, 3 readers: {sum(c['loads'] for c in counts)} loads, "
          "0 failed, 25 of 25 commits kept")
    # 1 first save + 4 writers x 6 saves: every commit is a deployment of its own.
    assert read_metadata(folder)["deployment"] == 25
    assert deployment_numbers(folder) == list(range(1, 26))
    committed = {deployment_snapshot(folder, n)["metrics"]["label"] for n in range(1, 26)}
    assert committed == {0} | {w * 10 + i for w in range(1, 5) for i in range(1, 7)}
    _check_consistent(folder)


def _save_forever(folder: str, first_label: int, saved) -> None:
    label = first_label
    while True:
        _save(Path(folder), label)
        with saved.get_lock():
            saved.value += 1
        label += 1


def _seconds_per_save(folder: Path) -> float:
    start = time.perf_counter()
    for label in (1, 2, 3):
        _save(folder, label)
    return (time.perf_counter() - start) / 3


@pytest.mark.parametrize("seed", [0])
def test_kill_9_at_random_points_of_save_leaves_old_or_new_never_a_mix(tmp_path, seed):
    rng = np.random.default_rng(seed)
    folder = tmp_path / "art"
    per_save = _seconds_per_save(folder)
    trials = 40
    landed_after_a_commit = 0
    for trial in range(trials):
        before = _check_consistent(folder)
        first = 1000 * (trial + 1)
        saved = FORK.Value("i", 0)
        process = FORK.Process(target=_save_forever, args=(str(folder), first, saved))
        process.start()
        # Let the writer finish 0, 1 or 2 saves, then kill it at a random point of the
        # next one (timed in saves, not seconds, so a busy machine aims as well).
        wanted = int(rng.integers(0, 3))
        while saved.value < wanted and process.is_alive():
            time.sleep(0.001)
        time.sleep(float(rng.uniform(0.0, 1.5)) * per_save)
        os.kill(process.pid, signal.SIGKILL)
        process.join(10)
        after = _check_consistent(folder)  # loads, and its metrics are its own
        assert after == before or first <= after < first + 10_000
        landed_after_a_commit += after != before
        # The fixed name resolves through the same commit point: never out of step.
        assert json.loads((folder / "metrics.json").read_text())["label"] == after
    # The next writer cleans up after the dead ones and commits normally.
    _save(folder, 7)
    assert _check_consistent(folder) == 7
    assert not list(folder.glob(".*tmp*"))
    assert deployment_numbers(folder)[-1] == read_metadata(folder)["deployment"]
    assert json.loads((folder / "metrics.json").read_text())["label"] == 7
    assert landed_after_a_commit >= trials // 3
    print(f"kill -9 during save: {trials} trials, {landed_after_a_commit} after a commit, "
          "0 mixed or out-of-step folders")


TRAIN_SCRIPT = """
import hashlib, sys
from pathlib import Path
from mlcicd.artifacts import save_model
from mlcicd.datasets import load_breast_cancer_frame
from mlcicd.training import TrainConfig, train
frame = load_breast_cancer_frame()
lines = []
for model in ("random_forest", "gradient_boosting", "logistic_regression"):
    params = {} if model == "logistic_regression" else {"n_estimators": 10}
    config = TrainConfig(model=model, params=params, cv_folds=2, seed=3)
    result = train(config, frame)
    path = save_model(result.pipeline, Path(OUT) / model, config=config, data=frame)
    lines.append(f"{model} {path.name} {hashlib.sha256(path.read_bytes()).hexdigest()}")
print("\\n".join(lines))
"""


def test_training_twice_in_two_processes_gives_the_same_bytes(tmp_path, capsys):
    # A fresh interpreter, and this one: two processes with their own hash seeds and
    # import histories (this one has run other tests), one start-up fewer than two
    # fresh ones.
    fresh = subprocess.Popen([sys.executable, "-c",
                              f"OUT = {str(tmp_path / 'first')!r}\n{TRAIN_SCRIPT}"],
                             stdout=subprocess.PIPE, text=True)
    exec(TRAIN_SCRIPT, {"OUT": str(tmp_path / "second")})
    here = capsys.readouterr().out.split()
    outputs = [fresh.communicate(timeout=300)[0].split(), here]
    assert fresh.returncode == 0
    assert outputs[0] == outputs[1] and len(outputs[0]) == 9
    for model, name, sha in zip(*[iter(outputs[0])] * 3, strict=True):
        first, second = (tmp_path / run / model / name for run in ("first", "second"))
        assert first.read_bytes() == second.read_bytes()
        assert hashlib.sha256(first.read_bytes()).hexdigest() == sha
        # The canonical file still loads under the allow-list, and predicts the same.
        assert load_model(first.parent).metadata["sha256"] == sha


def test_a_second_writer_waits_then_fails_with_a_clear_error(tmp_path):
    from mlcicd.artifact_store import LOCK_FILE
    from mlcicd.journal import exclusive_lock

    folder = tmp_path / "art"
    _save(folder, 1)
    with exclusive_lock(folder / LOCK_FILE), pytest.raises(
            ArtifactError, match="another process is writing"):
        save_model(_model(2), folder, timeout=0.2)
    assert _check_consistent(folder) == 1
