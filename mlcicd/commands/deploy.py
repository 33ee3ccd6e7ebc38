"""CLI subcommands: ``serve`` (HTTP server) and ``deploy canary`` / ``deploy blue-green``.

``mlcicd serve --model DIR`` hosts a model over HTTP (needs the ``serve`` extra).
``mlcicd deploy canary`` replays a labelled CSV as traffic through a canary release
and exits 0 when the candidate is promoted, 1 when it is rolled back (or the data
ran out first). ``mlcicd deploy blue-green`` health-checks a candidate on a smoke
set and exits 0 when it would take the traffic, 1 when the check fails. Models are
artifact folders (hash-checked on load); a tampered one is exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from mlcicd.commands import options
from mlcicd.errors import EXIT_OK, CheckFailed, InputError
from mlcicd.params import Integer, check
from mlcicd.paths import PLOT_SUFFIXES, PathCheck

if TYPE_CHECKING:
    import pandas as pd

#: Timeline columns ``deploy canary`` prints (all of them go to --timeline).
CANARY_COLUMNS = ("step", "weight", "requests_so_far", "canary_requests", "error_rate",
                  "labelled", "canary_accuracy", "stable_accuracy", "difference",
                  "difference_low", "difference_high", "decision")
#: Most requests one ``deploy canary`` replays (rows x --repeat): memory stays bounded.
MAX_REPLAYED = 2_000_000


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add this group's subcommands to the parser."""
    serve = subparsers.add_parser(
        "serve", help="serve a model over HTTP (FastAPI + uvicorn, needs the serve extra)",
        description=(
            "Serve an artifact with POST /predict, GET /healthz, GET /metrics and admin "
            "endpoints (deploy, switch, rollback, canary) guarded by the token in "
            "MLCICD_ADMIN_TOKEN. Binds to 127.0.0.1 unless told otherwise."
        ),
    )
    serve.add_argument("--model", required=True, metavar="DIR", help="live model artifact")
    serve.add_argument("--candidate", metavar="DIR", help="candidate artifact, kept idle")
    serve.add_argument("--host", default="127.0.0.1", help="bind address")
    serve.add_argument("--port", type=int, default=8000, help="port")
    serve.add_argument("--max-events", type=int, default=100_000,
                       help="recent requests kept for /metrics and canaries")
    serve.set_defaults(func=run_serve)

    deploy = subparsers.add_parser(
        "deploy", help="rehearse a release offline: canary or blue-green",
        description="Run a release strategy on saved models and labelled data.",
    )
    actions = deploy.add_subparsers(dest="deploy_command", metavar="STRATEGY")

    canary = actions.add_parser(
        "canary", help="canary release over a labelled CSV (exit 1 when rolled back)",
        description=(
            "Replay the rows of a labelled CSV (shuffled, repeated --repeat times) as "
            "requests; the candidate gets the --steps shares of traffic, checked after "
            "each step. Exit 0 when promoted, 1 when aborted or when the data ran out "
            "(inconclusive)."
        ),
    )
    canary.add_argument("--stable", required=True, metavar="DIR", help="live model artifact")
    canary.add_argument("--candidate", required=True, metavar="DIR", help="candidate artifact")
    canary.add_argument("--data", required=True, metavar="CSV", help="labelled rows")
    canary.add_argument("--target", default="target", help="label column")
    canary.add_argument("--steps", default="0.05,0.1,0.25,0.5,1.0",
                        help="canary shares, comma separated")
    canary.add_argument("--min-requests", type=int, default=50,
                        help="canary requests a step must serve before it may continue or "
                        "promote; an abort needs no minimum")
    canary.add_argument("--min-labels", type=int, default=30,
                        help="labelled evidence (pairs, or requests per arm with "
                        "--two-arms) before accuracy is judged; 0 turns it off")
    canary.add_argument("--max-accuracy-drop", type=float, default=0.05,
                        help="non-inferiority margin m in (0, 1): a candidate as accurate as "
                        "stable is aborted at most --alpha of the time, one 2m worse "
                        "promoted at most --beta of the time")
    canary.add_argument("--alpha", type=float, default=0.05,
                        help="chance of aborting an equally accurate candidate, in (0, 0.5)")
    canary.add_argument("--beta", type=float, default=0.05,
                        help="chance of promoting a candidate 2 x margin worse, in (0, 0.5)")
    canary.add_argument("--two-arms", action="store_true",
                        help="compare canary users with stable users instead of asking the "
                        "stable model about the canary's requests too (needs far more labels)")
    canary.add_argument("--max-error-rate", type=float, default=0.01,
                        help="largest share of failing canary requests")
    canary.add_argument("--repeat", type=options.count(1, options.LIMITS["repeat"]), default=20,
                        help="times the data is replayed, at most "
                        f"{options.LIMITS['repeat']:,} and {MAX_REPLAYED:,} requests")
    canary.add_argument("--seed", type=options.seed, default=0,
                        help="shuffling seed, in [0, 2**32)")
    canary.add_argument("--timeline", metavar="CSV", help="write the timeline here")
    canary.add_argument("--plot", metavar="PNG", help="save the traffic/metrics figure here "
                        f"({', '.join(PLOT_SUFFIXES)})")
    options.add_force(canary)
    canary.set_defaults(func=run_canary)

    blue_green = actions.add_parser(
        "blue-green", help="health-check a candidate before a switch (exit 1 when it fails)",
        description=(
            "Load the candidate into the idle slot, run the health check on a smoke set "
            "(answers every row, accuracy, latency) and switch only when it passes."
        ),
    )
    blue_green.add_argument("--live", required=True, metavar="DIR", help="live model artifact")
    blue_green.add_argument("--candidate", required=True, metavar="DIR",
                            help="candidate artifact")
    blue_green.add_argument("--smoke", required=True, metavar="CSV", help="labelled smoke set")
    blue_green.add_argument("--target", default="target", help="label column")
    blue_green.add_argument("--min-accuracy", type=float, default=0.9,
                            help="lowest accuracy on the smoke set")
    blue_green.add_argument("--max-latency-ms", type=float, default=None,
                            help="highest p95 single-row latency in ms (default: no limit)")
    blue_green.set_defaults(func=run_blue_green)
    deploy.set_defaults(func=lambda args: _usage(deploy))


def _usage(parser: argparse.ArgumentParser) -> int:
    # One line naming the missing action (mlcicd.cli.OneLineParser.missing_action).
    return parser.missing_action()


def _steps(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError as exc:
        raise InputError(f"--steps must be numbers separated by commas, got {text!r}") from exc


def _labelled(path: str, target: str) -> tuple[pd.DataFrame, pd.Series]:
    from mlcicd.io import read_csv
    from mlcicd.training import split_xy

    return split_xy(read_csv(path, required_columns=[target]), target, source=path)


def _require_known_labels(y: pd.Series, source: str, *versions: Any) -> None:
    # Labels of another kind would read as a 0 % accurate model: bad input, not a rollback.
    from mlcicd.training import require_known_labels

    for version in versions:
        require_known_labels(version.model, y, source=source, name=f"model {version.version}")


def run_serve(args: argparse.Namespace) -> int:
    """``mlcicd serve``: load the artifacts and serve until interrupted."""
    from mlcicd.deploy import ModelVersion, Router
    from mlcicd.deploy.serve import ADMIN_TOKEN_ENV, bind_socket, serve

    check("serve", "--port", args.port, Integer(1, 65535))
    check("serve", "--max-events", args.max_events, Integer(low=1))
    live = ModelVersion.from_artifact(args.model)
    candidate = ModelVersion.from_artifact(args.candidate) if args.candidate else None
    router = Router({"blue": live, "green": candidate}, max_events=args.max_events)
    sock = bind_socket(args.host, args.port)  # a port in use: one line, exit 2
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"mlcicd: warning: listening on {args.host}, reachable from other machines",
              file=sys.stderr)
    import os

    if not os.environ.get(ADMIN_TOKEN_ENV):
        print(f"mlcicd: {ADMIN_TOKEN_ENV} is not set: admin endpoints are disabled",
              file=sys.stderr)
    print(f"mlcicd: serving {live.version} on http://{args.host}:{args.port}", file=sys.stderr)
    serve(router, sock=sock)
    return EXIT_OK


def run_canary(args: argparse.Namespace) -> int:
    """``mlcicd deploy canary``: print the timeline; exit 1 unless promoted."""
    import numpy as np

    from mlcicd.deploy import CanaryPlan, CanaryRelease, ModelVersion, Router

    try:
        plan = CanaryPlan(steps=_steps(args.steps), min_requests=args.min_requests,
                          min_labels=args.min_labels, max_accuracy_drop=args.max_accuracy_drop,
                          max_error_rate=args.max_error_rate, alpha=args.alpha,
                          beta=args.beta, paired=not args.two_arms)
    except InputError as exc:  # name the option the user typed, not the parameter
        message = str(exc)
        for name in ("max_accuracy_drop", "max_error_rate", "min_requests", "min_labels",
                     "alpha", "beta"):
            message = message.replace(name, "--" + name.replace("_", "-"), 1)
        raise InputError(message) from None
    PathCheck(force=args.force).read_folder("--stable", args.stable).read_folder(
        "--candidate", args.candidate).read_file("--data", args.data).write_file(
        "--timeline", args.timeline).write_file("--plot", args.plot,
                                                suffixes=PLOT_SUFFIXES).check()
    X, y = _labelled(args.data, args.target)
    if len(X) * args.repeat > MAX_REPLAYED:
        raise InputError(f"--repeat {args.repeat} x {len(X)} rows is more than "
                         f"{MAX_REPLAYED:,} requests; lower --repeat")
    stable = ModelVersion.from_artifact(args.stable)
    candidate = ModelVersion.from_artifact(args.candidate)
    _require_known_labels(y, args.data, stable, candidate)
    rng = np.random.default_rng(args.seed)
    order = np.concatenate([rng.permutation(len(X)) for _ in range(args.repeat)])
    # One user per row: a replayed row is that user coming back, so the canary counts
    # its label once (replays add traffic for the guardrails, not accuracy evidence).
    keys = [f"row-{i}" for i in order]
    router = Router({"stable": stable, "canary": None})
    release = CanaryRelease(router, candidate, plan)
    release.run(X.iloc[order].reset_index(drop=True), y.to_numpy()[order], keys)
    timeline = release.timeline_frame()
    if plan.min_labels:
        print(f"accuracy rule: {plan.rule.risks()}")
    if len(timeline):
        timeline["reasons"] = timeline["reasons"].map("; ".join)
        shown = [c for c in CANARY_COLUMNS if c in timeline.columns]
        print(timeline[shown].to_string(index=False, float_format="%.3f"))
        print(f"last decision: {timeline['decision'].iloc[-1]}: {timeline['reasons'].iloc[-1]}")
    else:
        print("no step could be judged: not enough requests or labels")
    if args.timeline:
        from mlcicd.io import atomic_write_text

        atomic_write_text(args.timeline, timeline.to_csv(index=False))
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        release.plot().savefig(args.plot, dpi=120)
    print(f"canary {candidate.version}: {release.status_}")
    if release.status_ == "inconclusive":
        raise CheckFailed(f"canary {candidate.version} inconclusive: the data ran out after "
                          f"{router.n_requests} requests before a decision; replay more rows "
                          "or lower --min-requests")
    if release.status_ != "promoted":
        raise CheckFailed(f"candidate {candidate.version} not promoted ({release.status_})")
    return EXIT_OK


def run_blue_green(args: argparse.Namespace) -> int:
    """``mlcicd deploy blue-green``: print the health report; exit 1 when it fails."""
    from mlcicd.deploy import BlueGreenRelease, HealthCheck, ModelVersion, Router

    PathCheck().read_folder("--live", args.live).read_folder(
        "--candidate", args.candidate).read_file("--smoke", args.smoke).check()
    X, y = _labelled(args.smoke, args.target)
    _require_known_labels(y, args.smoke, ModelVersion.from_artifact(args.live))
    check = HealthCheck(X, y.to_numpy(), min_accuracy=args.min_accuracy,
                        max_latency_ms=args.max_latency_ms)
    router = Router({"blue": ModelVersion.from_artifact(args.live), "green": None})
    release = BlueGreenRelease(router, check)
    report = release.release(args.candidate)
    print(report.to_frame().to_string(index=False))
    if not report.passed:
        raise CheckFailed(f"health check failed ({', '.join(report.failures())}): "
                          f"{router.live_versions()} keeps serving")
    print(f"switched: {router.live_versions()}")
    return EXIT_OK
