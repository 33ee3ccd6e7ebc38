"""A corpus of bad command lines: each must fail cleanly and change nothing.

Every case is a command line plus the files it needs, run in a fresh folder that also
holds a small valid project (data, config, two artifacts, a gate, a schema). Each case
must end with the documented exit code (2: bad input), exactly one line on stderr, no
traceback, and every file in the folder byte-for-byte as it was. The CLI runs
in-process (``mlcicd.cli.main``) for speed; a few cases also run as a real process.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification

from mlcicd.cli import main

#: Seconds one case may take before it counts as a hang.
CASE_TIMEOUT = 30

DEEP_YAML = "[" * 5000 + "]" * 5000 + "\n"
DEEP_JSON = "[" * 100_000 + "]" * 100_000
HUGE_INT = "1" * 5000
# "Billion laughs": 500 bytes that expand to 9**9 strings when an alias is followed.
ALIAS_BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{new}: &{new} [{', '.join([f'*{old}'] * 9)}]\n"
    for old, new in zip("abcdefgh", "bcdefghi", strict=True)
)
BINARY = bytes(range(256)) * 4
NOTEBOOK = '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}\n'
MATRIX_LIST = "- labs\n- smoke\n"


@dataclass(frozen=True)
class Case:
    """One bad command line: ``args`` run in a folder holding ``files`` on top of the project."""

    name: str
    args: tuple[str, ...]
    files: dict[str, str | bytes | None] = field(default_factory=dict)
    code: int = 2


def _cases() -> list[Case]:
    cases: list[Case] = []

    def add(name: str, *args: str, code: int = 2, **files: str | bytes | None) -> None:
        # Keyword names are file names, with "__" for "/" and "_DOT_" for "."; None = folder.
        cases.append(Case(name, tuple(args), {k.replace("__", "/").replace("_DOT_", "."): v
                                               for k, v in files.items()}, code))

    # -- the parser itself ----------------------------------------------------------
    add("no-command")
    add("unknown-command", "frobnicate")
    add("train-no-args", "train")
    add("datasets-no-action", "datasets")
    add("deploy-no-strategy", "deploy")
    add("labs-no-action", "labs")
    add("compare-seed-not-int", "compare", "--baseline", "model", "--candidate", "model2",
        "--test", "test.csv", "--seed", "x")
    add("gate-bad-format", "gate", "--metrics", "metrics.json", "--thresholds", "gate.yaml",
        "--format", "xml")
    add("datasets-unknown-name", "datasets", "export", "iris", "--out", "new")
    add("drift-bad-correction", "drift", "--reference", "train.csv", "--current", "test.csv",
        "--correction", "holm")
    add("export-seed-huge", "datasets", "export", "breast-cancer", "--out", "new",
        "--seed", HUGE_INT)

    # -- validate ---------------------------------------------------------------------
    v = ("validate", "--schema", "schema.yaml")
    add("validate-missing-data", *v, "missing.csv")
    add("validate-data-is-folder", *v, "model")
    add("validate-empty-data", *v, "e.csv", e_DOT_csv="")
    add("validate-binary-data", *v, "b.csv", b_DOT_csv=BINARY)
    add("validate-latin1-data", *v, "l.csv", l_DOT_csv="a,b\n\xe9,1\n".encode("latin-1"))
    add("validate-header-only", *v, "h.csv", h_DOT_csv="a,b,target\n")
    add("validate-ragged-rows", *v, "r.csv", r_DOT_csv='a,b\n1,2\n3,"4\n')
    add("validate-duplicate-header", *v, "d.csv", d_DOT_csv="a,a,target\n1,2,0\n3,4,1\n")
    add("validate-missing-schema", "validate", "test.csv", "--schema", "none.yaml")
    s = ("validate", "test.csv", "--schema", "s.yaml")
    add("schema-syntax-error", *s, s_DOT_yaml="columns: [a: b\n")
    add("schema-empty", *s, s_DOT_yaml="")
    add("schema-list", *s, s_DOT_yaml="- a\n- b\n")
    add("schema-unknown-key", *s, s_DOT_yaml="colums: {}\n")
    add("schema-column-unknown-key", *s, s_DOT_yaml="columns:\n  a: {maxx: 3}\n")
    add("schema-bad-dtype", *s, s_DOT_yaml="columns:\n  a: {dtype: complex}\n")
    add("schema-min-above-max", *s, s_DOT_yaml="columns:\n  a: {min: 3, max: 1}\n")
    add("schema-deep", *s, s_DOT_yaml=DEEP_YAML)
    add("schema-deep-column", *s, s_DOT_yaml="columns:\n  a: " + DEEP_YAML)
    add("schema-alias-bomb", *s, s_DOT_yaml=ALIAS_BOMB)
    add("schema-alias-in-column", *s,
        s_DOT_yaml="columns:\n  a: &r {dtype: numeric}\n  b: *r\n")
    add("schema-huge-int", *s, s_DOT_yaml=f"columns:\n  a: {{min: {HUGE_INT}}}\n")
    add("schema-huge-min-rows", *s, s_DOT_yaml=f"min_rows: {HUGE_INT}\ncolumns: {{}}\n")
    add("schema-binary", *s, s_DOT_yaml=BINARY)
    add("schema-long-string-value", *s,
        s_DOT_yaml="columns:\n  a: {dtype: " + "z" * 100_000 + "}\n")
    add("schema-nan-bound", *s, s_DOT_yaml="columns:\n  a: {min: .nan}\n")
    add("schema-target-not-column", *s, s_DOT_yaml="target: y\ncolumns: {a: numeric}\n")
    add("schema-repeated-key", *s, s_DOT_yaml="columns:\n  a: numeric\n  a: integer\n")

    # -- infer-schema ----------------------------------------------------------------
    add("infer-out-exists", "infer-schema", "train.csv", "--out", "schema.yaml")
    add("infer-out-is-folder", "infer-schema", "train.csv", "--out", "model")
    add("infer-out-is-input", "infer-schema", "train.csv", "--out", "train.csv")
    add("infer-out-in-artifact", "infer-schema", "train.csv", "--out", "model/schema.yaml")
    add("infer-out-parent-is-file", "infer-schema", "train.csv", "--out", "train.csv/s.yaml")
    add("infer-missing-data", "infer-schema", "none.csv", "--out", "new.yaml")
    add("infer-duplicate-header", "infer-schema", "d.csv", "--out", "new.yaml",
        d_DOT_csv="a,a\n1,2\n")
    add("infer-binary-data", "infer-schema", "b.csv", "--out", "new.yaml", b_DOT_csv=BINARY)
    add("infer-negative-margin", "infer-schema", "train.csv", "--out", "new.yaml",
        "--margin", "-1")
    add("infer-nan-margin", "infer-schema", "train.csv", "--out", "new.yaml", "--margin", "nan")
    add("infer-unknown-target", "infer-schema", "train.csv", "--out", "new.yaml",
        "--target", "label")

    # -- datasets export ---------------------------------------------------------------
    e = ("datasets", "export", "breast-cancer")
    add("export-over-other-data", *e, "--out", ".")
    add("export-out-is-file", *e, "--out", "train.csv")
    add("export-into-artifact", *e, "--out", "model")
    add("export-test-size-zero", *e, "--out", "new", "--test-size", "0")
    add("export-test-size-above-one", *e, "--out", "new", "--test-size", "1.5")
    add("export-test-size-nan", *e, "--out", "new", "--test-size", "nan")
    add("export-negative-seed", *e, "--out", "new", "--seed", "-1")
    add("export-seed-too-large", *e, "--out", "new", "--seed", str(2**32))
    add("export-out-parent-is-file", *e, "--out", "train.csv/data")

    # -- train ---------------------------------------------------------------------------
    t = ("train", "--train", "train.csv", "--test", "test.csv", "--out", "new")
    add("train-missing-data", "train", "--train", "none.csv", "--out", "new")
    add("train-missing-config", *t, "--config", "none.yaml")
    add("train-config-syntax", *t, "--config", "c.yaml", c_DOT_yaml="model: [\n")
    add("train-config-list", *t, "--config", "c.yaml", c_DOT_yaml="- random_forest\n")
    add("train-config-binary", *t, "--config", "c.yaml", c_DOT_yaml=BINARY)
    add("train-config-deep", *t, "--config", "c.yaml", c_DOT_yaml="params: " + DEEP_YAML)
    add("train-config-alias-bomb", *t, "--config", "c.yaml", c_DOT_yaml=ALIAS_BOMB)
    add("train-config-huge-seed", *t, "--config", "c.yaml", c_DOT_yaml=f"seed: {HUGE_INT}\n")
    add("train-config-negative-seed", *t, "--config", "c.yaml", c_DOT_yaml="seed: -1\n")
    add("train-config-seed-2-32", *t, "--config", "c.yaml", c_DOT_yaml=f"seed: {2**32}\n")
    add("train-config-seed-text", *t, "--config", "c.yaml", c_DOT_yaml="seed: one\n")
    add("train-config-unknown-key", *t, "--config", "c.yaml", c_DOT_yaml="modle: x\n")
    add("train-config-unknown-model", *t, "--config", "c.yaml", c_DOT_yaml="model: svm\n")
    add("train-config-params-list", *t, "--config", "c.yaml", c_DOT_yaml="params: [1]\n")
    add("train-config-unknown-param", *t, "--config", "c.yaml",
        c_DOT_yaml="params: {n_trees: 3}\n")
    add("train-config-random-state", *t, "--config", "c.yaml",
        c_DOT_yaml="params: {random_state: 3}\n")
    add("train-billion-trees", *t, "--config", "c.yaml",
        c_DOT_yaml="params: {n_estimators: 1000000000}\n")
    add("train-zero-trees", *t, "--config", "c.yaml", c_DOT_yaml="params: {n_estimators: 0}\n")
    add("train-trees-text", *t, "--config", "c.yaml",
        c_DOT_yaml="params: {n_estimators: many}\n")
    add("train-huge-depth", *t, "--config", "c.yaml",
        c_DOT_yaml=f"params: {{max_depth: {HUGE_INT}}}\n")
    add("train-gb-billion-stages", *t, "--config", "c.yaml",
        c_DOT_yaml="model: gradient_boosting\nparams: {n_estimators: 1000000000}\n")
    add("train-lr-billion-iterations", *t, "--config", "c.yaml",
        c_DOT_yaml="model: logistic_regression\nparams: {max_iter: 1000000000}\n")
    add("train-cv-one", *t, "--config", "c.yaml", c_DOT_yaml="cv_folds: 1\n")
    add("train-cv-huge", *t, "--config", "c.yaml", c_DOT_yaml="cv_folds: 1000000\n")
    add("train-test-size-two", "train", "--train", "train.csv", "--out", "new", "--config",
        "c.yaml", c_DOT_yaml="test_size: 2\n")
    add("train-config-nested-target", *t, "--config", "c.yaml", c_DOT_yaml="target: [a]\n")
    add("train-no-target", *t, "--config", "c.yaml", c_DOT_yaml="target: label\n")
    add("train-one-class", "train", "--train", "one.csv", "--out", "new",
        one_DOT_csv="a,target\n1,0\n2,0\n3,0\n4,0\n5,0\n6,0\n")
    add("train-text-feature", "train", "--train", "x.csv", "--out", "new",
        x_DOT_csv="a,target\n" + "".join(f"v{i},{i % 2}\n" for i in range(20)))
    add("train-inf-feature", "train", "--train", "x.csv", "--out", "new",
        x_DOT_csv="a,target\n" + "".join(f"{'inf' if i == 3 else i},{i % 2}\n"
                                          for i in range(20)))
    add("train-duplicate-header", "train", "--train", "x.csv", "--out", "new",
        x_DOT_csv="a,a,target\n" + "".join(f"{i},{i},{i % 2}\n" for i in range(20)))
    add("train-out-is-file", "train", "--train", "train.csv", "--out", "test.csv")
    add("train-out-inside-artifact", "train", "--train", "train.csv", "--out", "model/inner")
    add("train-out-parent-is-file", "train", "--train", "train.csv", "--out", "test.csv/m")
    add("train-test-missing-column", *t[:-2], "--out", "new", "--test", "t.csv",
        t_DOT_csv="a,b,target\n1,2,0\n3,4,1\n")

    # -- evaluate ----------------------------------------------------------------------
    ev = ("evaluate", "--model", "model", "--data")
    add("evaluate-missing-model", "evaluate", "--model", "none", "--data", "test.csv")
    add("evaluate-model-is-file", "evaluate", "--model", "test.csv", "--data", "test.csv")
    add("evaluate-model-not-artifact", "evaluate", "--model", "empty", "--data", "test.csv",
        empty=None)
    add("evaluate-tampered-model", "evaluate", "--model", "tampered", "--data", "test.csv")
    add("evaluate-missing-data", *ev, "none.csv")
    add("evaluate-no-target", *ev, "test.csv", "--target", "label")
    add("evaluate-text-labels", *ev, "strlabels.csv")
    add("evaluate-unseen-label", *ev, "unseen.csv")
    add("evaluate-missing-feature", *ev, "f.csv", f_DOT_csv="a,b,target\n1,2,0\n3,4,1\n")
    add("evaluate-text-feature", *ev, "textfeature.csv")
    add("evaluate-raising-model", "evaluate", "--model", "broken", "--data", "test.csv")
    add("evaluate-out-is-data", *ev, "test.csv", "--out", "test.csv")
    add("evaluate-out-is-metadata", *ev, "test.csv", "--out", "model/metadata.json")
    add("evaluate-out-in-artifact", *ev, "test.csv", "--out", "model/extra.json")
    add("evaluate-out-is-folder", *ev, "test.csv", "--out", "model2")
    add("evaluate-out-parent-is-file", *ev, "test.csv", "--out", "test.csv/m.json")
    add("evaluate-out-equals-other-input", *ev, "test.csv", "--out", "model/../test.csv")
    add("evaluate-duplicate-header", *ev, "d.csv", d_DOT_csv="a,a,b,c,d,target\n1,1,1,1,1,0\n")

    # -- compare -------------------------------------------------------------------------
    c = ("compare", "--baseline", "model", "--candidate", "model2", "--test")
    add("compare-missing-baseline", "compare", "--baseline", "none", "--candidate", "model2",
        "--test", "test.csv")
    add("compare-tampered-candidate", "compare", "--baseline", "model", "--candidate",
        "tampered", "--test", "test.csv")
    add("compare-missing-test", *c, "none.csv")
    add("compare-no-target", *c, "test.csv", "--target", "label")
    add("compare-text-labels", *c, "strlabels.csv")
    add("compare-unseen-label", *c, "unseen.csv")
    add("compare-raising-candidate", "compare", "--baseline", "model", "--candidate", "broken",
        "--test", "test.csv")
    add("compare-zero-resamples", *c, "test.csv", "--n-resamples", "0")
    add("compare-negative-resamples", *c, "test.csv", "--n-resamples", "-5")
    add("compare-huge-resamples", *c, "test.csv", "--n-resamples", "100000000")
    add("compare-negative-seed", *c, "test.csv", "--seed", "-1")
    add("compare-seed-too-large", *c, "test.csv", "--seed", str(2**32))
    add("compare-regression-above-one", *c, "test.csv", "--max-regression", "2")
    add("compare-regression-nan", *c, "test.csv", "--max-regression", "nan")
    add("compare-out-is-test", *c, "test.csv", "--out", "test.csv")
    add("compare-out-is-metadata", *c, "test.csv", "--out", "model2/metadata.json")
    add("compare-out-is-folder", *c, "test.csv", "--out", "model")
    add("compare-out-parent-is-file", *c, "test.csv", "--out", "test.csv/r.md")
    add("compare-duplicate-header", *c, "d.csv", d_DOT_csv="a,b,c,d,d,target\n1,1,1,1,1,0\n")

    # -- gate ------------------------------------------------------------------------------
    g = ("gate", "--thresholds", "gate.yaml", "--metrics")
    add("gate-missing-metrics", *g, "none.json")
    add("gate-metrics-not-json", *g, "m.json", m_DOT_json="accuracy = 0.9\n")
    add("gate-metrics-binary", *g, "m.json", m_DOT_json=BINARY)
    add("gate-metrics-deep", *g, "m.json", m_DOT_json=DEEP_JSON)
    add("gate-metrics-huge-int", *g, "m.json", m_DOT_json='{"accuracy": ' + HUGE_INT + "}")
    add("gate-accuracy-7.5", *g, "m.json", m_DOT_json='{"accuracy": 7.5}')
    add("gate-accuracy-negative", *g, "m.json", m_DOT_json='{"accuracy": -0.1}')
    add("gate-accuracy-text", *g, "m.json", m_DOT_json='{"accuracy": "high"}')
    add("gate-accuracy-nan", *g, "m.json", m_DOT_json='{"accuracy": NaN}')
    add("gate-accuracy-infinity", *g, "m.json", m_DOT_json='{"accuracy": Infinity}')
    add("gate-accuracy-missing", *g, "m.json", m_DOT_json='{"f1": 0.9}')
    add("gate-metrics-list", *g, "m.json", m_DOT_json="[0.9]")
    add("gate-metrics-long-text", *g, "m.json",
        m_DOT_json='{"accuracy": "' + "x" * 100_000 + '"}')
    add("gate-metrics-is-folder", *g, "model")
    gm = ("gate", "--metrics", "metrics.json", "--thresholds")
    add("gate-missing-thresholds", *gm, "none.yaml")
    add("gate-thresholds-syntax", *gm, "t.yaml", t_DOT_yaml="min_accuracy: [\n")
    add("gate-thresholds-empty", *gm, "t.yaml", t_DOT_yaml="")
    add("gate-thresholds-unknown", *gm, "t.yaml", t_DOT_yaml="min_acuracy: 0.9\n")
    add("gate-thresholds-above-one", *gm, "t.yaml", t_DOT_yaml="min_accuracy: 1.5\n")
    add("gate-thresholds-text", *gm, "t.yaml", t_DOT_yaml="min_accuracy: high\n")
    add("gate-thresholds-deep", *gm, "t.yaml", t_DOT_yaml=DEEP_YAML)
    add("gate-thresholds-alias-bomb", *gm, "t.yaml", t_DOT_yaml=ALIAS_BOMB)
    add("gate-thresholds-huge-int", *gm, "t.yaml", t_DOT_yaml=f"min_accuracy: {HUGE_INT}\n")
    add("gate-thresholds-binary", *gm, "t.yaml", t_DOT_yaml=BINARY)
    add("gate-thresholds-list", *gm, "t.yaml", t_DOT_yaml="- 0.9\n")
    add("gate-thresholds-long-key", *gm, "t.yaml", t_DOT_yaml="k" * 100_000 + ": 0.9\n")
    gg = ("gate", "--metrics", "metrics.json", "--thresholds", "gate.yaml")
    add("gate-missing-baseline", *gg, "--baseline", "none.json")
    add("gate-baseline-accuracy-7.5", *gm, "t.yaml", "--baseline", "b.json",
        t_DOT_yaml="max_regression: 0.01\n",
        b_DOT_json='{"accuracy": 7.5, "precision": 1, "recall": 1, "f1": 1}')
    add("gate-out-is-metrics", *gg, "--out", "metrics.json")
    add("gate-out-is-thresholds", *gg, "--out", "gate.yaml")
    add("gate-out-in-artifact", *gg, "--out", "model/gate.md")
    add("gate-out-is-folder", *gg, "--out", "model")
    add("gate-out-parent-is-file", *gg, "--out", "gate.yaml/out.md")

    # -- drift -----------------------------------------------------------------------------
    d = ("drift", "--reference", "train.csv", "--current")
    add("drift-missing-reference", "drift", "--reference", "none.csv", "--current", "test.csv")
    add("drift-empty-current", *d, "e.csv", e_DOT_csv="")
    add("drift-binary-current", *d, "b.csv", b_DOT_csv=BINARY)
    add("drift-alpha-zero", *d, "test.csv", "--alpha", "0")
    add("drift-alpha-above-one", *d, "test.csv", "--alpha", "1.5")
    add("drift-alpha-nan", *d, "test.csv", "--alpha", "nan")
    add("drift-share-above-one", *d, "test.csv", "--drift-share", "2")
    add("drift-no-shared-columns", *d, "o.csv", o_DOT_csv="x,y\n1,2\n3,4\n")
    add("drift-exclude-everything", *d, "test.csv", "--exclude", "a,b,c,d,target")
    add("drift-duplicate-header", *d, "dup.csv", dup_DOT_csv="a,a\n1,2\n3,4\n")

    # -- monitor ---------------------------------------------------------------------------
    m = ("monitor", "--reference", "train.csv", "--train", "train.csv")
    add("monitor-missing-model", *m, "--model", "none", "--batch", "test.csv")
    add("monitor-tampered-model", *m, "--model", "tampered", "--batch", "test.csv")
    add("monitor-missing-batch", *m, "--model", "model", "--batch", "none.csv")
    add("monitor-text-labels", *m, "--model", "model", "--batch", "strlabels.csv")
    add("monitor-unseen-label", *m, "--model", "model", "--batch", "unseen.csv")
    add("monitor-raising-model", *m, "--model", "broken", "--batch", "test.csv")
    add("monitor-history-is-folder", *m, "--model", "model", "--batch", "test.csv",
        "--history", "model2")
    add("monitor-history-is-batch", *m, "--model", "model", "--batch", "test.csv",
        "--history", "test.csv")
    add("monitor-history-is-metadata", *m, "--model", "model", "--batch", "test.csv",
        "--history", "model/metadata.json")
    add("monitor-history-parent-is-file", *m, "--model", "model", "--batch", "test.csv",
        "--history", "test.csv/h.jsonl")
    add("monitor-bad-config", *m, "--model", "model", "--batch", "test.csv", "--config",
        "c.yaml", c_DOT_yaml="seed: -1\n")
    add("monitor-bad-thresholds", *m, "--model", "model", "--batch", "test.csv",
        "--thresholds", "t.yaml", t_DOT_yaml="min_accuracy: 7.5\n")
    add("monitor-min-accuracy-two", *m, "--model", "model", "--batch", "test.csv",
        "--min-accuracy", "2")
    add("monitor-alpha-zero", *m, "--model", "model", "--batch", "test.csv", "--alpha", "0")
    add("monitor-batch-no-target", *m, "--model", "model", "--batch", "f.csv",
        f_DOT_csv="a,b,c,d\n1,2,3,4\n")

    # -- deploy canary ---------------------------------------------------------------------
    k = ("deploy", "canary", "--stable", "model", "--candidate", "model2", "--data")
    add("canary-missing-stable", "deploy", "canary", "--stable", "none", "--candidate",
        "model2", "--data", "test.csv")
    add("canary-tampered-candidate", "deploy", "canary", "--stable", "model", "--candidate",
        "tampered", "--data", "test.csv")
    add("canary-missing-data", *k, "none.csv")
    add("canary-no-target", *k, "test.csv", "--target", "label")
    add("canary-text-steps", *k, "test.csv", "--steps", "a,b")
    add("canary-step-above-one", *k, "test.csv", "--steps", "0.5,2")
    add("canary-steps-decreasing", *k, "test.csv", "--steps", "0.5,0.2,1")
    add("canary-repeat-zero", *k, "test.csv", "--repeat", "0")
    add("canary-repeat-huge", *k, "test.csv", "--repeat", "100000000")
    add("canary-negative-seed", *k, "test.csv", "--seed", "-1")
    add("canary-min-requests-zero", *k, "test.csv", "--min-requests", "0")
    add("canary-error-rate-above-one", *k, "test.csv", "--max-error-rate", "2")
    add("canary-timeline-is-data", *k, "test.csv", "--timeline", "test.csv")
    add("canary-timeline-is-metadata", *k, "test.csv", "--timeline", "model/metadata.json")
    add("canary-timeline-is-folder", *k, "test.csv", "--timeline", "model")
    add("canary-plot-unknown-suffix", *k, "test.csv", "--plot", "x.xyz")
    add("canary-plot-no-suffix", *k, "test.csv", "--plot", "figure")
    add("canary-plot-is-data", *k, "test.csv", "--plot", "test.csv")
    add("canary-plot-in-artifact", *k, "test.csv", "--plot", "model2/plot.png")
    add("canary-plot-parent-is-file", *k, "test.csv", "--plot", "test.csv/p.png")
    add("canary-text-labels", *k, "strlabels.csv")

    # -- deploy blue-green -------------------------------------------------------------------
    b = ("deploy", "blue-green", "--live", "model", "--candidate", "model2", "--smoke")
    add("bluegreen-missing-live", "deploy", "blue-green", "--live", "none", "--candidate",
        "model2", "--smoke", "test.csv")
    add("bluegreen-missing-smoke", *b, "none.csv")
    add("bluegreen-min-accuracy-two", *b, "test.csv", "--min-accuracy", "2")
    add("bluegreen-negative-latency", *b, "test.csv", "--max-latency-ms", "-1")
    add("bluegreen-no-target", *b, "test.csv", "--target", "label")
    add("bluegreen-text-labels", *b, "strlabels.csv")

    # -- serve (every case fails before a socket is opened) --------------------------------
    add("serve-missing-model", "serve", "--model", "none")
    add("serve-port-too-large", "serve", "--model", "model", "--port", "70000")
    add("serve-zero-events", "serve", "--model", "model", "--max-events", "0")
    add("serve-tampered-model", "serve", "--model", "tampered")

    # -- registry and rollback -------------------------------------------------------------
    add("registry-missing-model", "registry", "--model", "none")
    add("registry-model-is-file", "registry", "--model", "test.csv")
    add("registry-bad-format", "registry", "--model", "model", "--format", "xml")
    add("rollback-missing-model", "rollback", "--model", "none")
    add("rollback-to-unknown-deployment", "rollback", "--model", "model", "--to", "99")
    add("rollback-to-text", "rollback", "--model", "model", "--to", "last")
    add("github-no-action", "github")

    # -- labs -------------------------------------------------------------------------------
    add("student-binary-notebook", "labs", "make-student", "b.ipynb", "--out-dir", "out",
        b_DOT_ipynb=BINARY)
    add("student-text-file", "labs", "make-student", "notes.txt", "--out-dir", "out",
        notes_DOT_txt="just some notes\n")
    add("student-json-not-notebook", "labs", "make-student", "x.ipynb", "--out-dir", "out",
        x_DOT_ipynb='{"a": 1}\n')
    add("student-deep-json", "labs", "make-student", "x.ipynb", "--out-dir", "out",
        x_DOT_ipynb=DEEP_JSON)
    add("student-missing-notebook", "labs", "make-student", "none.ipynb", "--out-dir", "out")
    add("student-notebook-is-folder", "labs", "make-student", "model", "--out-dir", "out")
    add("student-no-solutions", "labs", "make-student", "--solutions", "none",
        "--out-dir", "out")
    add("student-check-binary", "labs", "make-student", "b.ipynb", "--check",
        b_DOT_ipynb=BINARY)
    add("student-out-dir-is-file", "labs", "make-student", "n.ipynb", "--out-dir", "test.csv",
        n_DOT_ipynb=NOTEBOOK)
    add("student-onto-itself", "labs", "make-student", "n.ipynb", "--out-dir", ".",
        n_DOT_ipynb=NOTEBOOK)
    add("execute-missing-src", "labs", "execute", "--src", "none")
    add("execute-binary-source", "labs", "execute", "--src", "src", "--solutions", "sol",
        "--student", "stu", src__01_lab_DOT_py=BINARY)
    add("execute-unknown-lab", "labs", "execute", "--src", "src", "--lab", "99",
        src__01_lab_DOT_py="# %%\nx = 1\n")
    mx = ("labs", "list", "--matrix")
    add("list-missing-matrix", *mx, "none.yaml")
    add("list-binary-matrix", *mx, "p.yaml", p_DOT_yaml=BINARY)
    add("list-matrix-syntax", *mx, "p.yaml", p_DOT_yaml="labs: [\n")
    add("list-matrix-list", *mx, "p.yaml", p_DOT_yaml=MATRIX_LIST)
    add("list-matrix-deep", *mx, "p.yaml", p_DOT_yaml="labs: " + DEEP_YAML)
    add("list-matrix-alias-bomb", *mx, "p.yaml", p_DOT_yaml=ALIAS_BOMB)
    add("list-matrix-huge-int", *mx, "p.yaml", p_DOT_yaml=f"labs: {HUGE_INT}\n")
    add("list-matrix-unknown-notebook", *mx, "p.yaml",
        p_DOT_yaml="labs:\n  01_x:\n    sets: {base: {n: 1}}\n")
    add("run-binary-matrix", "labs", "run", "--matrix", "p.yaml", "--out", "runs",
        p_DOT_yaml=BINARY)
    add("run-jobs-zero", "labs", "run", "--jobs", "0")
    add("run-random-huge", "labs", "run", "--random", "100000000")
    add("run-random-negative-seed", "labs", "run", "--random", "2", "--seed", "-1")
    add("run-nothing-selected", "labs", "run", "--matrix", "p.yaml", "--lab", "99",
        "--out", "runs", p_DOT_yaml="labs:\n  01_x:\n    notebook: n.ipynb\n"
        "    sets: {base: {n: 1}}\n", n_DOT_ipynb=NOTEBOOK)
    return cases


CASES = _cases()


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A small valid project every case starts from: data, config, artifacts, gate, schema."""
    from mlcicd.artifacts import save_model
    from mlcicd.training import TrainConfig, train
    from mlcicd.validation import infer_schema

    folder = tmp_path_factory.mktemp("project")
    X, y = make_classification(n_samples=160, n_features=4, random_state=3)
    df = pd.DataFrame(X, columns=["a", "b", "c", "d"]).assign(target=y)
    train_df, test_df = df.iloc[:120], df.iloc[120:].reset_index(drop=True)
    train_df.to_csv(folder / "train.csv", index=False)
    test_df.to_csv(folder / "test.csv", index=False)
    test_df.assign(target=np.where(test_df["target"] == 1, "yes", "no")).to_csv(
        folder / "strlabels.csv", index=False)
    test_df.assign(target=np.arange(len(test_df)) % 3).to_csv(folder / "unseen.csv", index=False)
    test_df.assign(a="text").to_csv(folder / "textfeature.csv", index=False)
    (folder / "config.yaml").write_text("params: {n_estimators: 5}\ncv_folds: 3\n")
    (folder / "gate.yaml").write_text("min_accuracy: 0.5\n")
    infer_schema(train_df, target="target").to_yaml(folder / "schema.yaml")
    for name, config in (("model", TrainConfig(params={"n_estimators": 5}, cv_folds=3)),
                         ("model2", TrainConfig(model="logistic_regression", cv_folds=3))):
        result = train(config, train_df, test_df)
        save_model(result.pipeline, folder / name, config=config, metrics=result.metrics)
    shutil.copy(folder / "model" / "metrics.json", folder / "metrics.json")
    # An allow-listed model that raises when called: its weights lost two features.
    broken = train(TrainConfig(model="logistic_regression", cv_folds=3), train_df, test_df)
    broken.pipeline[-1].coef_ = broken.pipeline[-1].coef_[:, :2]
    save_model(broken.pipeline, folder / "broken", config=broken.config, metrics={})
    shutil.copytree(folder / "model", folder / "tampered")
    model_file = next((folder / "tampered").glob("*.skops"))
    model_file.write_bytes(model_file.read_bytes()[:-10] + b"0123456789")
    return folder


def _fingerprint(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): (
            hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
        )
        for path in sorted(folder.rglob("*"))
    }


def _materialise(case: Case, project: Path, folder: Path) -> None:
    # Hard links, not copies: 250 cases x 50 files. A command that wrote into one in
    # place would change the shared file, and its own fingerprint check fails on it; an
    # atomic write (temp + rename) replaces the link and leaves the project alone.
    shutil.copytree(project, folder, dirs_exist_ok=True, copy_function=os.link)
    for name, content in case.files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_file():  # a case's own file never writes through a link
            path.unlink()
        if content is None:
            path.mkdir()
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


class CaseTimeout(BaseException):
    """A hang; a ``BaseException`` so that no ``except Exception`` in the CLI can hide it."""


def _on_timeout(signum, frame):  # pragma: no cover - only reached by a hang
    raise CaseTimeout(f"the case ran for more than {CASE_TIMEOUT} s")


def test_the_corpus_is_large_and_names_are_unique():
    names = [case.name for case in CASES]
    assert len(names) >= 150
    assert len(set(names)) == len(names)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_input_fails_cleanly_and_changes_nothing(case, project, tmp_path, monkeypatch,
                                                     capsys):
    _materialise(case, project, tmp_path)
    monkeypatch.chdir(tmp_path)
    before = _fingerprint(tmp_path)
    assert_one_clean_line(case.args, case.code, capsys)
    assert _fingerprint(tmp_path) == before


def assert_one_clean_line(args, expected_code: int, capsys) -> None:
    """Run the CLI in-process (bounded by CASE_TIMEOUT): the expected exit code and one
    short line on stderr, no traceback. Shared with tests/test_cli_hostile_input.py."""
    previous = signal.signal(signal.SIGALRM, _on_timeout)
    signal.alarm(CASE_TIMEOUT)
    try:
        code = main(list(args))
    except SystemExit as exit_:
        code = exit_.code
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    err = capsys.readouterr().err
    assert code == expected_code, err
    assert "Traceback" not in err
    assert err.count("\n") == 1 and err.endswith("\n"), err[:2000]
    assert len(err) <= 1000, err[:2000]


SUBPROCESS_CASES = [c for c in CASES if c.name in {
    "unknown-command", "gate-metrics-deep", "schema-alias-bomb", "student-binary-notebook",
    "evaluate-raising-model",
}]


@pytest.mark.parametrize("case", SUBPROCESS_CASES, ids=[c.name for c in SUBPROCESS_CASES])
def test_bad_input_as_a_real_process(case, project, tmp_path):
    _materialise(case, project, tmp_path)
    before = _fingerprint(tmp_path)
    result = subprocess.run([sys.executable, "-m", "mlcicd", *case.args], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == case.code, result.stderr[:2000]
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert _fingerprint(tmp_path) == before
