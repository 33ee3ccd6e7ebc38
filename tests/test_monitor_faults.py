"""The monitor under faults: concurrent runs, kill -9, bad paths, torn history lines."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import time

import numpy as np
import pytest

from mlcicd.artifacts import data_fingerprint, load_model, read_metadata, read_metrics, save_model
from mlcicd.deploy.monitor import Monitor, read_history
from mlcicd.drift import make_drifted
from mlcicd.errors import InputError
from mlcicd.gate import GateThresholds
from mlcicd.journal import append_record, read_records
from mlcicd.registry import history as deployments
from mlcicd.registry import rollback
from mlcicd.training import TrainConfig, train

FORK = multiprocessing.get_context("fork")
CONFIG = TrainConfig(params={"n_estimators": 10}, cv_folds=2)


def _labelled(kind: str, level: float, n: int, seed: int):
    X, y = make_drifted(kind, level, n=n, seed=seed)
    return X.assign(target=y)


@pytest.fixture
def world(tmp_path):
    train_df = _labelled("covariate", 0.0, 500, seed=0)
    model_dir = tmp_path / "production"
    save_model(train(CONFIG, train_df).pipeline, model_dir, config=CONFIG)
    return {"train": train_df, "model_dir": model_dir, "history": tmp_path / "history.jsonl"}


def _monitor(world, **kwargs) -> Monitor:
    options = {"config": CONFIG, "history": world["history"], **kwargs}
    return Monitor(world["model_dir"], reference=world["train"].drop(columns="target"),
                   train_data=world["train"], **options)


def _append_many(path: str, writer: int, count: int) -> None:
    for i in range(count):
        append_record(path, {"writer": writer, "i": i, "pad": "x" * (50 * writer)})


def test_concurrent_appends_keep_every_line(tmp_path):
    path = tmp_path / "history.jsonl"
    writers = [FORK.Process(target=_append_many, args=(str(path), w, 40)) for w in range(6)]
    for process in writers:
        process.start()
    for process in writers:
        process.join(60)
    assert [p.exitcode for p in writers] == [0] * 6
    journal = read_records(path)
    assert not journal.truncated_tail
    assert sorted((r["writer"], r["i"]) for r in journal.records) == [
        (w, i) for w in range(6) for i in range(40)]


def _one_cycle(world: dict, seed: int) -> None:
    _monitor(world).run(_labelled("covariate", 0.0, 200, seed=seed))


def test_four_concurrent_monitor_runs_keep_four_lines(world):
    runs = [FORK.Process(target=_one_cycle, args=(world, 10 + i)) for i in range(4)]
    for process in runs:
        process.start()
    for process in runs:
        process.join(120)
    assert [p.exitcode for p in runs] == [0] * 4
    records = read_history(world["history"])
    assert len(records) == 4 and {r["outcome"] for r in records} == {"no retrain"}


def _cli_monitor(argv: list[str]) -> None:
    from mlcicd.cli import main

    raise SystemExit(main(argv))


def test_four_concurrent_cli_monitor_runs_keep_four_lines(world, tmp_path):
    # `mlcicd monitor` itself (its main), in four processes forked at once.
    world["train"].to_csv(tmp_path / "train.csv", index=False)
    world["train"].drop(columns="target").to_csv(tmp_path / "reference.csv", index=False)
    runs = []
    for i in range(4):
        batch = tmp_path / f"b{i}.csv"
        _labelled("covariate", 0.0, 150, seed=20 + i).to_csv(batch, index=False)
        argv = ["monitor", "--model", str(world["model_dir"]), "--reference",
                str(tmp_path / "reference.csv"), "--batch", str(batch), "--train",
                str(tmp_path / "train.csv"), "--history", str(world["history"])]
        runs.append(FORK.Process(target=_cli_monitor, args=(argv,)))
    for process in runs:
        process.start()
    for process in runs:
        process.join(120)
    assert [run.exitcode for run in runs] == [0] * 4
    assert len(read_history(world["history"])) == 4


def _failing_minimum_monitor(world: dict) -> Monitor:
    # A minimum nobody meets makes every cycle retrain; new batches make new candidates.
    return _monitor(world, min_accuracy=0.999, thresholds=GateThresholds(min_accuracy=0.5))


def _cycles_forever(world: dict, first_seed: int, cycles) -> None:
    monitor = _failing_minimum_monitor(world)
    seed = first_seed
    while True:
        monitor.run(_labelled("covariate", 0.5, 200, seed=seed))
        with cycles.get_lock():
            cycles.value += 1
        seed += 1


def test_kill_9_during_monitor_cycles_never_loses_a_promotion(world):
    rng = np.random.default_rng(5)
    start = time.perf_counter()
    _failing_minimum_monitor(world).run(_labelled("covariate", 0.5, 200, seed=1))
    per_cycle = time.perf_counter() - start
    trials = 10
    for trial in range(trials):
        cycles = FORK.Value("i", 0)
        process = FORK.Process(target=_cycles_forever, args=(world, 1000 * (trial + 1), cycles))
        process.start()
        # Kill at a random point of the first or second cycle (timed in cycles).
        wanted = int(rng.integers(0, 2))
        while cycles.value < wanted and process.is_alive():
            time.sleep(0.005)
        time.sleep(float(rng.uniform(0.0, 1.2)) * per_cycle)
        os.kill(process.pid, signal.SIGKILL)
        process.join(10)
        loaded = load_model(world["model_dir"])  # the old model or the new, never a mix
        assert read_metrics(world["model_dir"], metadata=loaded.metadata) == loaded.metrics
        # The next run first records any promotion the killed one committed silently.
        _monitor(world).reconcile_history()
        records = read_history(world["history"])
        promoted = {d.sha256 for d in deployments(world["model_dir"]) if d.action == "promote"}
        assert promoted <= {r["model_after"] for r in records}
        assert records[-1]["model_after"] == loaded.metadata["sha256"]
    outcomes = [r["outcome"] for r in read_history(world["history"])]
    assert outcomes.count("promoted") >= 1 + trials // 3
    print(f"kill -9 during monitor cycles: {trials} kills, {outcomes.count('promoted')} "
          f"promotions logged, {outcomes.count('recovered')} recovered on the next run, "
          "0 lost")


def test_bad_history_paths_are_refused_before_anything_changes(world, tmp_path):
    before = read_metadata(world["model_dir"])
    corrupt = tmp_path / "corrupt.jsonl"
    corrupt.write_text('{"outcome": "no retrain"}\nnot json at all\n{"outcome": "x"}\n')
    for bad, message in [(tmp_path / "missing" / "h.jsonl", "not found"),
                         (tmp_path, "folder"),
                         (world["model_dir"] / "h.jsonl", "inside the artifact"),
                         (corrupt, "corrupt")]:
        with pytest.raises(InputError, match=message):
            _monitor(world, history=bad)
    assert read_metadata(world["model_dir"]) == before


def test_cli_monitor_with_a_bad_history_exits_2_and_keeps_production(world, tmp_path):
    from mlcicd.cli import main

    world["train"].to_csv(tmp_path / "train.csv", index=False)
    _labelled("covariate", 1.0, 300, seed=3).to_csv(tmp_path / "batch.csv", index=False)
    before = read_metadata(world["model_dir"])
    code = main(["monitor", "--model", str(world["model_dir"]), "--reference",
                 str(tmp_path / "train.csv"), "--batch", str(tmp_path / "batch.csv"),
                 "--train", str(tmp_path / "train.csv"),
                 "--history", str(tmp_path / "no-such-folder" / "h.jsonl")])
    assert code == 2
    assert read_metadata(world["model_dir"]) == before


def test_a_torn_last_line_is_skipped_and_reported(world):
    _monitor(world).run(_labelled("covariate", 0.0, 200, seed=1))
    with open(world["history"], "ab") as handle:
        handle.write(b'{"outcome": "promoted", "model_af')
    decision = _monitor(world).run(_labelled("covariate", 0.0, 200, seed=2))
    assert any("torn line" in reason for reason in decision.reasons)
    records = read_history(world["history"])
    assert len(records) == 2 and all("outcome" in r for r in records)


def test_a_promotion_without_its_line_is_recorded_on_the_next_run(world):
    _monitor(world).run(_labelled("covariate", 0.0, 200, seed=1))
    # What a run killed between its commit and its history line leaves behind:
    batch = _labelled("covariate", 1.0, 300, seed=2)
    silent = save_model(train(CONFIG, batch).pipeline, world["model_dir"], action="promote")
    decision = _monitor(world).run(_labelled("covariate", 0.0, 200, seed=3))
    records = read_history(world["history"])
    assert [r["outcome"] for r in records][:2] == ["no retrain", "recovered"]
    assert silent.name == f"model-{records[1]['model_after'][:12]}.skops"
    assert any("no history line" in reason for reason in decision.reasons)


def test_the_reference_moves_with_a_promotion_and_back_with_a_rollback(world):
    monitor = _monitor(world, min_accuracy=0.9)
    original = data_fingerprint(world["train"].drop(columns="target"))
    first = monitor.run(_labelled("covariate", 0.0, 200, seed=1))
    drifted = monitor.run(_labelled("covariate", 1.0, 400, seed=2))
    assert (first.reference, first.window) == (original, 1)
    assert (drifted.reference, drifted.window, drifted.outcome) == (original, 2, "promoted")
    after = monitor.run(_labelled("covariate", 1.0, 200, seed=3))
    assert after.reference != original and after.window == 1  # a new reference, a new count
    assert read_metadata(world["model_dir"])["data_file"] is not None
    rollback(world["model_dir"], reason="drill")
    back = monitor.run(_labelled("covariate", 0.0, 200, seed=4))
    assert back.reference == original and back.window == 3
    assert back.model_before == first.model_before


def test_a_decision_is_refused_when_production_changed_during_the_cycle(world, monkeypatch):
    import mlcicd.deploy.monitor as monitor_module

    real_train = monitor_module.train

    def train_while_someone_promotes(*args, **kwargs):
        result = real_train(*args, **kwargs)
        other = _labelled("covariate", 0.0, 300, seed=9)
        save_model(train(CONFIG, other).pipeline, world["model_dir"], action="promote")
        return result

    monkeypatch.setattr(monitor_module, "train", train_while_someone_promotes)
    decision = _monitor(world).run(_labelled("covariate", 1.0, 400, seed=2))
    assert decision.outcome == "failed" and "changed during this run" in decision.error
    assert json.dumps(decision.to_dict(), allow_nan=False)
