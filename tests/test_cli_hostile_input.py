"""Hostile inputs that need more than file contents: links, fifos, devices, edited artifacts.

The corpus of :mod:`test_cli_bad_input` writes files; an attacker also plays with the file
system itself. Each case here first builds its trap in a copy of the same small project
(``setup``), then runs the command line in-process and asks the same of it: the
documented exit code (2: bad input), one line on stderr, no traceback, no hang, and every
file (and link, fifo, device node) exactly as it was. The cases that used to hang (a
model file or history replaced by a fifo or by a link to ``/dev/zero``) or to end in a
traceback (an edited deployment number or lineage) are the reason for this file.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from test_cli_bad_input import assert_one_clean_line, project  # noqa: F401 (fixture)

Setup = Callable[[Path], None]


@dataclass(frozen=True)
class Trap:
    """One hostile command line: ``setup`` builds the trap, ``args`` run in its folder."""

    name: str
    args: tuple[str, ...]
    setup: Setup | None = None
    code: int = 2


def _write(name: str, content: str | bytes) -> Setup:
    def setup(folder: Path) -> None:
        data = content.encode() if isinstance(content, str) else content
        (folder / name).write_bytes(data)
    return setup


def _symlink(name: str, target: str) -> Setup:
    return lambda folder: os.symlink(target, folder / name)


def _fifo(name: str) -> Setup:
    return lambda folder: os.mkfifo(folder / name)


def _hard_link(name: str, target: str) -> Setup:
    return lambda folder: os.link(folder / target, folder / name)


def _model_file(folder: Path, artifact: str = "model") -> Path:
    return next((folder / artifact).glob("model-*.skops"))


def _model_file_as(kind: str) -> Setup:
    """Replace the committed model file by a fifo, a link to /dev/zero or another model."""
    def setup(folder: Path) -> None:
        path = _model_file(folder)
        path.unlink()
        if kind == "fifo":
            os.mkfifo(path)
        elif kind == "devzero":
            os.symlink("/dev/zero", path)
        else:
            os.symlink(_model_file(folder, "model2").resolve(), path)
    return setup


def _edit_metadata(artifact: str = "model", snapshot: int | None = None,
                   **changes: object) -> Setup:
    """Edit the committed metadata (or deployment ``snapshot``'s) by hand."""
    def setup(folder: Path) -> None:
        if snapshot is None:
            path = (folder / artifact / "metadata.json").resolve()
        else:
            path = folder / artifact / f"deployment-{snapshot:06d}" / "metadata.json"
        data = json.loads(path.read_text())
        data.update(changes)
        path.unlink()
        path.write_text(json.dumps(data))
    return setup


def _two_deployments(then: Setup | None = None) -> Setup:
    """Promote model2 into model (so a rollback has a target), then ``then``."""
    def setup(folder: Path) -> None:
        from mlcicd.registry import promote

        promote(folder / "model2", folder / "model")
        if then is not None:
            then(folder)
    return setup


def _current_outside(folder: Path) -> None:
    evil = folder / "evil"
    evil.mkdir()
    shutil.copy(folder / "model2" / "metadata.json", evil / "metadata.json")
    (evil / "metrics.json").write_text("{}")
    os.unlink(folder / "model" / "current")
    os.symlink(evil, folder / "model" / "current")


def _current_loop(folder: Path) -> None:
    os.unlink(folder / "model" / "current")
    os.symlink("current", folder / "model" / "current")


def _lock_is_folder(folder: Path) -> None:
    (folder / "model" / ".lock").unlink()
    (folder / "model" / ".lock").mkdir()


TEST_CSV_HEAD = "a,b,c,d,target\n"


def _traps() -> list[Trap]:
    traps: list[Trap] = []

    def add(name: str, *args: str, setup: Setup | None = None, code: int = 2) -> None:
        traps.append(Trap(name, tuple(args), setup, code))

    ev = ("evaluate", "--model", "model", "--data")
    mon = ("monitor", "--reference", "train.csv", "--train", "train.csv", "--model", "model",
           "--batch", "test.csv")
    gate = ("gate", "--metrics", "metrics.json", "--thresholds", "gate.yaml")
    gm = ("gate", "--thresholds", "gate.yaml", "--metrics")
    gt = ("gate", "--metrics", "metrics.json", "--thresholds")
    t = ("train", "--train", "train.csv", "--test", "test.csv", "--out", "new", "--config",
         "c.yaml")

    # -- special files as inputs: never read (a fifo blocks, /dev/zero never ends) ------
    add("fifo-as-data", *ev, "f.csv", setup=_fifo("f.csv"))
    add("devzero-as-data", *ev, "/dev/zero")
    add("devnull-as-data", *ev, "/dev/null")
    add("link-to-devzero-as-data", *ev, "z.csv", setup=_symlink("z.csv", "/dev/zero"))
    add("fifo-as-schema-data", "validate", "--schema", "schema.yaml", "f.csv",
        setup=_fifo("f.csv"))
    add("fifo-as-config", "train", "--train", "train.csv", "--out", "new", "--config",
        "c.yaml", setup=_fifo("c.yaml"))
    add("devzero-as-metrics", *gm, "/dev/zero")
    add("fifo-as-drift-current", "drift", "--reference", "train.csv", "--current", "f.csv",
        setup=_fifo("f.csv"))

    # -- special files and other spellings as outputs -----------------------------------
    add("out-is-fifo", *ev, "test.csv", "--out", "o.json", setup=_fifo("o.json"))
    add("gate-out-is-fifo", *gate, "--out", "o.md", setup=_fifo("o.md"))
    add("history-is-fifo", *mon, "--history", "h.jsonl", setup=_fifo("h.jsonl"))
    add("train-out-is-fifo", "train", "--train", "train.csv", "--out", "o", setup=_fifo("o"))
    add("train-out-links-to-device", "train", "--train", "train.csv", "--out", "o",
        setup=_symlink("o", "/dev/null"))
    add("out-dot-slash-data", *ev, "test.csv", "--out", "./test.csv")
    add("out-via-sibling-dotdot", *ev, "test.csv", "--out", "model2/../test.csv")
    add("out-symlink-to-data", *ev, "test.csv", "--out", "o.json",
        setup=_symlink("o.json", "test.csv"))
    add("data-symlink-out-real", *ev, "l.csv", "--out", "test.csv",
        setup=_symlink("l.csv", "test.csv"))
    add("out-hard-link-of-data", *ev, "test.csv", "--out", "h.json",
        setup=_hard_link("h.json", "test.csv"))
    add("gate-out-hard-link-of-metrics", *gate, "--out", "h.md",
        setup=_hard_link("h.md", "metrics.json"))
    add("infer-out-hard-link-of-data", "infer-schema", "train.csv", "--out", "h.yaml",
        setup=_hard_link("h.yaml", "train.csv"))
    add("out-link-to-metadata", *ev, "test.csv", "--out", "o.json",
        setup=_symlink("o.json", "model/metadata.json"))
    add("out-dangling-link-into-artifact", *ev, "test.csv", "--out", "o.json",
        setup=_symlink("o.json", "model/new.json"))
    add("compare-out-link-to-test", "compare", "--baseline", "model", "--candidate",
        "model2", "--test", "test.csv", "--out", "r.md", setup=_symlink("r.md", "test.csv"))
    add("timeline-via-artifact-dotdot", "deploy", "canary", "--stable", "model",
        "--candidate", "model2", "--data", "test.csv", "--timeline", "model/../test.csv")
    add("history-link-to-batch", *mon, "--history", "h.jsonl",
        setup=_symlink("h.jsonl", "test.csv"))
    add("history-link-to-metadata", *mon, "--history", "h.jsonl",
        setup=_symlink("h.jsonl", "model/metadata.json"))
    add("train-out-dotdot-into-artifact", "train", "--train", "train.csv", "--out",
        "model2/../model/x")
    add("export-out-link-to-artifact", "datasets", "export", "breast-cancer", "--out", "o",
        setup=_symlink("o", "model"))
    add("train-data-is-metadata", "train", "--train", "model/metadata.json", "--out", "new")

    # -- tampered artifacts: refused by name, size, hash or file type --------------------
    add("model-file-is-fifo", *ev, "test.csv", setup=_model_file_as("fifo"))
    add("model-file-links-to-devzero", *ev, "test.csv", setup=_model_file_as("devzero"))
    add("model-file-links-to-other-model", *ev, "test.csv", setup=_model_file_as("other"))
    add("monitor-model-file-is-fifo", *mon, setup=_model_file_as("fifo"))
    add("serve-model-file-links-to-devzero", "serve", "--model", "model",
        setup=_model_file_as("devzero"))
    add("compare-model-file-links-to-devzero", "compare", "--baseline", "model2",
        "--candidate", "model", "--test", "test.csv", setup=_model_file_as("devzero"))
    add("metadata-model-file-escapes", *ev, "test.csv",
        setup=_edit_metadata(model_file="../../etc/passwd"))
    add("metadata-metrics-file-escapes", "registry", "--model", "model",
        setup=_edit_metadata(metrics_file="../../etc/passwd"))
    add("metadata-data-file-escapes", *mon, setup=_edit_metadata(data_file="../../etc/passwd"))
    add("metadata-size-is-bool", *ev, "test.csv", setup=_edit_metadata(size_bytes=True))
    add("metadata-deployment-is-text", "rollback", "--model", "model",
        setup=_edit_metadata(deployment="abc"))
    add("metadata-deployment-is-negative", "registry", "--model", "model",
        setup=_edit_metadata(deployment=-3))
    add("metadata-deployment-is-bool", "registry", "--model", "model",
        setup=_edit_metadata(deployment=True))
    add("metadata-deployment-huge", "rollback", "--model", "model",
        setup=_edit_metadata(deployment=10**40))
    add("metadata-lineage-is-list", "rollback", "--model", "model",
        setup=_edit_metadata(lineage=[1, 2]))
    add("metadata-previous-is-text", "rollback", "--model", "model",
        setup=_edit_metadata(lineage={"previous": "x"}))
    add("train-over-corrupt-deployment-number", "train", "--train", "train.csv", "--out",
        "model", "--config", "config.yaml", setup=_edit_metadata(deployment="abc"))
    add("metadata-links-to-devzero", *ev, "test.csv", setup=lambda f: (
        os.unlink(f / "model" / "metadata.json"),
        os.symlink("/dev/zero", f / "model" / "metadata.json")))
    add("metadata-is-fifo", *ev, "test.csv", setup=lambda f: (
        os.unlink(f / "model" / "metadata.json"), os.mkfifo(f / "model" / "metadata.json")))
    add("current-link-points-outside", *ev, "test.csv", setup=_current_outside)
    add("rollback-current-link-points-outside", "rollback", "--model", "model",
        setup=_current_outside)
    add("current-link-loops", *ev, "test.csv", setup=_current_loop)
    add("lock-is-a-folder", "train", "--train", "train.csv", "--out", "model",
        setup=_lock_is_folder)
    add("rollback-target-model-is-fifo", "rollback", "--model", "model",
        setup=_two_deployments(_model_file_as("fifo")))
    add("rollback-target-record-escapes", "rollback", "--model", "model", "--to", "1",
        setup=_two_deployments(_edit_metadata(snapshot=1, model_file="../../etc/passwd")))
    add("rollback-target-lineage-is-list", "rollback", "--model", "model", "--to", "1",
        setup=_two_deployments(_edit_metadata(snapshot=1, lineage=[1])))
    add("rollback-to-negative", "rollback", "--model", "model", "--to", "-1")
    add("rollback-to-zero", "rollback", "--model", "model", "--to", "0")
    add("rollback-to-fifty-digits", "rollback", "--model", "model", "--to", "1" * 50)
    add("rollback-to-production", "rollback", "--model", "model", "--to", "1")

    # -- YAML: tags, merge keys, depth, types where numbers go ----------------------------
    yaml_cases = {
        "yaml-python-object-tag": "seed: !!python/object/apply:os.system ['touch PWNED']\n",
        "yaml-python-name-tag": "model: !!python/name:os.system\n",
        "yaml-merge-key-with-alias": "base: &b {n_estimators: 3}\nparams:\n  <<: *b\n",
        "yaml-65-deep": "params: " + "[" * 65 + "]" * 65 + "\n",
        "yaml-binary-tag": "seed: !!binary aGVsbG8=\n",
        "yaml-set-tag": "params: !!set {a, b}\n",
        "yaml-date-as-seed": "seed: 2001-12-14\n",
        "yaml-bool-as-seed": "seed: true\n",
        "yaml-bool-as-folds": "cv_folds: true\n",
        "yaml-bool-as-trees": "params: {n_estimators: true}\n",
        "yaml-float-seed": "seed: 1.5\n",
        "yaml-float-folds": "cv_folds: 2.5\n",
        "yaml-string-as-depth": "params: {max_depth: '5'}\n",
        "yaml-nul-byte": b"seed: 1\x00\n",
        "yaml-two-documents": "seed: 1\n---\nseed: 2\n",
        "yaml-null-params": "params: null\n",
    }
    for name, text in yaml_cases.items():
        add(name, *t, setup=_write("c.yaml", text))
    add("yaml-infinite-test-size", "train", "--train", "train.csv", "--out", "new",
        "--config", "c.yaml", setup=_write("c.yaml", "test_size: .inf\n"))
    add("thresholds-bool", *gt, "t.yaml", setup=_write("t.yaml", "min_accuracy: true\n"))
    add("thresholds-python-tag", *gt, "t.yaml",
        setup=_write("t.yaml", "min_accuracy: !!python/object:object {}\n"))

    # -- JSON metrics: numbers that are not finite, not numbers, or repeated -------------
    json_cases = {
        "json-1e400": '{"accuracy": 1e400}',
        "json-bool": '{"accuracy": true}',
        "json-null": '{"accuracy": null}',
        "json-minus-infinity": '{"accuracy": -Infinity}',
        "json-repeated-key": '{"accuracy": 0.9, "accuracy": 7.5}',
        "json-65-deep": '{"x": ' + "[" * 65 + "]" * 65 + ', "accuracy": 0.9}',
        "json-nul-byte": b'{"accuracy": 0.9}\x00',
    }
    for name, text in json_cases.items():
        add(name, *gm, "m.json", setup=_write("m.json", text))

    # -- CSV content ---------------------------------------------------------------------
    add("csv-nul-bytes", *ev, "n.csv", setup=_write("n.csv", TEST_CSV_HEAD + "1,2,3\x00,4,0\n"))
    add("csv-unicode-columns", *ev, "u.csv", setup=_write("u.csv", "á,b,c,d,target\n1,2,3,4,0\n"))
    add("csv-one-huge-line", *ev, "big.csv",
        setup=_write("big.csv", TEST_CSV_HEAD + "1" * 5_000_000 + ",1,1,1,0\n"))
    return traps


TRAPS = _traps()


def _state(folder: Path) -> dict[str, str]:
    """Every entry below ``folder`` without following links: content, link target or kind."""
    state = {}
    for path in sorted(folder.rglob("*")):
        mode = os.lstat(path).st_mode
        name = str(path.relative_to(folder))
        if stat.S_ISLNK(mode):
            state[name] = "link -> " + os.readlink(path)
        elif stat.S_ISREG(mode):
            state[name] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            state[name] = stat.filemode(mode)
    return state


def test_trap_names_are_unique_and_new():
    from test_cli_bad_input import CASES

    names = [trap.name for trap in TRAPS]
    assert len(names) >= 80
    assert len(set(names)) == len(names)
    assert not set(names) & {case.name for case in CASES}


@pytest.mark.parametrize("trap", TRAPS, ids=[trap.name for trap in TRAPS])
def test_hostile_input_fails_cleanly_and_changes_nothing(trap, project, tmp_path,  # noqa: F811
                                                         monkeypatch, capsys):
    shutil.copytree(project, tmp_path, dirs_exist_ok=True, symlinks=True)
    if trap.setup is not None:
        trap.setup(tmp_path)
    monkeypatch.chdir(tmp_path)
    before = _state(tmp_path)
    assert_one_clean_line(trap.args, trap.code, capsys)
    assert _state(tmp_path) == before
