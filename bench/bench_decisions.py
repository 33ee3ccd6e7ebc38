"""Benchmark: how often each release decision is wrong, and how long it takes to decide.

Every automated release rule states its risks; this script measures them by simulating
many seeded releases per case, with the same decision code the library runs:

* equal: the candidate is exactly as accurate as the reference (an abort is a false
  abort; the target is at most ``alpha``);
* 1x margin worse: inside the indifference zone, either outcome is acceptable;
* 2x margin worse: a promotion is a miss (the target is at most ``beta``);
* better: should be promoted.

For each case it prints the promote, abort and inconclusive rates with 95 %
Clopper-Pearson intervals, and the median requests and labels to a decision.

Sections are listed in :data:`SECTIONS`: a title and a function of the parsed options
returning one :class:`mlcicd.oc.OperatingPoint` per case. The canary sections are
here; the shadow promotion rule and the monitor's promotion rule plug in by appending
to that list (see the marked place below).

Usage::

    python bench/bench_decisions.py                     # 1,000 releases per case
    python bench/bench_decisions.py --n-releases 300 --seed 1 --sections canary-paired

The figures are printed, never asserted here (tests/test_oc.py asserts them with
binomial bounds on fewer releases).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from mlcicd.deploy.canary_analysis import CanaryPlan
from mlcicd.deploy.shadow_rule import ShadowRule, simulate_shadow
from mlcicd.oc import OperatingPoint, simulate_canary

#: Cases as multiples of the margin: (name, true difference / margin).
CASES = (("equal", 0.0), ("1x margin worse", -1.0), ("2x margin worse", -2.0),
         ("better", 0.4))

Section = Callable[[argparse.Namespace], list[OperatingPoint]]


def _canary_cases(args: argparse.Namespace, plan: CanaryPlan, **options: object
                  ) -> list[OperatingPoint]:
    m = plan.max_accuracy_drop
    return [simulate_canary(plan, args.p_stable, factor * m, args.n_releases,
                            args.seed + i, case=name, **options)  # type: ignore[arg-type]
            for i, (name, factor) in enumerate(CASES)]


def canary_paired(args: argparse.Namespace) -> list[OperatingPoint]:
    """The default plan: steps 5-100 %, 100 canary requests per step, paired evidence."""
    return _canary_cases(args, CanaryPlan())


def canary_two_arms(args: argparse.Namespace) -> list[OperatingPoint]:
    """The default plan with ``paired=False``: canary users against stable users."""
    return _canary_cases(args, CanaryPlan(paired=False))


def accuracy_alone_paired(args: argparse.Namespace) -> list[OperatingPoint]:
    """Labels the accuracy test needs by itself: one 100 % step, analysed every 10 labels."""
    plan = CanaryPlan(steps=(1.0,), min_requests=1)
    return _canary_cases(args, plan, batch_size=10)


def accuracy_alone_two_arms(args: argparse.Namespace) -> list[OperatingPoint]:
    """The same without pairing: half the users on each side, analysed every 10 labels."""
    plan = CanaryPlan(steps=(0.5,), min_requests=1, paired=False)
    return _canary_cases(args, plan, batch_size=10)


def pipeline_live_rows(args: argparse.Namespace) -> list[OperatingPoint]:
    """The end-to-end pipeline's situation: 150 live rows replayed 20 times (3,000
    requests, each row one key counted once), CLI defaults (50 requests per step)."""
    plan = CanaryPlan(min_requests=50, min_labels=30)
    return _canary_cases(args, plan, live_rows=150, max_requests=3000)


def _monitor_cases(args: argparse.Namespace, *, production_ok: bool, holdout: int
                   ) -> list[OperatingPoint]:
    from mlcicd.deploy.monitor_rules import PromotionRule, simulate_monitor

    m = PromotionRule().margin
    names = dict(CASES) if not production_ok else {
        "tie (equal)": 0.0, "1x margin worse": -1.0, "2x margin worse": -2.0,
        "better (2x margin)": 2.0}
    return [simulate_monitor(factor * m, production_ok=production_ok, n=holdout,
                             cycles=args.n_releases, seed=args.seed + i, case=name)
            for i, (name, factor) in enumerate(dict(names).items())]


def monitor_production_ok(args: argparse.Namespace) -> list[OperatingPoint]:
    """Monitor, production still meets its minimum: promote only a *better* candidate
    (a tie is refused; promoting one that is not better should stay <= alpha = 5 %).
    400 paired hold-out rows, 10 % of them discordant."""
    return _monitor_cases(args, production_ok=True, holdout=400)


def monitor_production_failed(args: argparse.Namespace) -> list[OperatingPoint]:
    """Monitor, production below its minimum: promote a non-inferior candidate
    (400 paired hold-out rows, 10 % discordant)."""
    return _monitor_cases(args, production_ok=False, holdout=400)


def monitor_production_failed_small(args: argparse.Namespace) -> list[OperatingPoint]:
    """The same on 200 hold-out rows: the hold-out is scored once, so with fewer rows
    an equal candidate is refused more often (a power matter, not a stated risk)."""
    return _monitor_cases(args, production_ok=False, holdout=200)


def _shadow_cases(args: argparse.Namespace, rule: ShadowRule, **options: object
                  ) -> list[OperatingPoint]:
    return [simulate_shadow(rule, args.p_stable, factor * rule.margin, args.n_releases,
                            args.seed + i, case=name, **options)  # type: ignore[arg-type]
            for i, (name, factor) in enumerate(CASES)]


def shadow_sequential(args: argparse.Namespace) -> list[OperatingPoint]:
    """The shadow's default rule (paired confidence sequence, non-inferiority), read
    every 100 requests: its risks hold however often the report is read."""
    return _shadow_cases(args, ShadowRule())


def shadow_fixed_peeked(args: argparse.Namespace) -> list[OperatingPoint]:
    """The fixed-horizon McNemar rule (promote on a significant gain, nominally 2.5 %
    for an equal shadow), read every 100 requests over 2,000: the peeking error."""
    return _shadow_cases(args, ShadowRule(analysis="fixed-horizon"), max_requests=2000)


def shadow_fixed_replayed(args: argparse.Namespace) -> list[OperatingPoint]:
    """The same on 143 rows replayed 20 times, each replay counted as new evidence
    (the old report; min_samples 100 so the once-counted variant can decide too)."""
    rule = ShadowRule(analysis="fixed-horizon", min_samples=100)
    return _shadow_cases(args, rule, live_rows=143, max_requests=2860, count_replays=True)


def shadow_sequential_replayed(args: argparse.Namespace) -> list[OperatingPoint]:
    """143 rows replayed 20 times, each row counted once (as ShadowRelease does now),
    sequential rule with min_samples 100."""
    return _shadow_cases(args, ShadowRule(min_samples=100), live_rows=143, max_requests=2860)


#: (name, title, section). Shadow and monitor sections are appended here by their
#: modules' authors, e.g. ``SECTIONS.append(("shadow", "Shadow promotion rule",
#: shadow_section))`` where the function returns one OperatingPoint per case of CASES.
SECTIONS: list[tuple[str, str, Section]] = [
    ("canary-paired", "Canary, default plan, paired evidence", canary_paired),
    ("canary-two-arms", "Canary, default plan, two arms", canary_two_arms),
    ("accuracy-paired", "Accuracy test alone, paired", accuracy_alone_paired),
    ("accuracy-two-arms", "Accuracy test alone, two arms (50/50)", accuracy_alone_two_arms),
    ("pipeline", "Canary on 150 live rows replayed 20 times, paired", pipeline_live_rows),
    ("shadow-sequential", "Shadow promotion, sequential rule, read every 100 requests",
     shadow_sequential),
    ("shadow-fixed-peeked", "Shadow promotion, fixed-horizon McNemar read every 100 requests",
     shadow_fixed_peeked),
    ("shadow-fixed-replayed", "Shadow, fixed-horizon, 143 rows x 20 replays counted as new",
     shadow_fixed_replayed),
    ("shadow-sequential-replayed", "Shadow, sequential, 143 rows x 20 replays counted once",
     shadow_sequential_replayed),
    # --- monitor promotion rule: plug in here ---
    ("monitor-ok", "Monitor promotion, production meets its minimum", monitor_production_ok),
    ("monitor-failed", "Monitor promotion, production below its minimum",
     monitor_production_failed),
    ("monitor-failed-200", "Monitor promotion, production below its minimum, 200 rows",
     monitor_production_failed_small),
]


#: Sections shown for comparison, not judged against the 5 % targets: the fixed-horizon
#: shadow rule is the one the sequential rule replaces (it shows what peeking and counted
#: replays cost), and the 200-row monitor shows the power lost with a smaller hold-out
#: (refusing an equal candidate keeps production and retries next window: no release risk).
NOT_JUDGED = {"shadow-fixed-peeked", "shadow-fixed-replayed", "monitor-failed-200"}


def _rate(point: OperatingPoint, name: str) -> str:
    low, high = getattr(point, f"{name}_ci")
    return f"{getattr(point, f'{name}_rate'):.3f} [{low:.3f}, {high:.3f}]"


def print_section(title: str, points: list[OperatingPoint], seconds: float,
                  judged: bool = True) -> None:
    """A table of one section, then its false-abort and miss rates against 5 %."""
    print(f"\n## {title} ({seconds:.1f} s)")
    print(f"{'case':<18}{'diff':>8}  {'promote [95% CI]':<22}{'abort [95% CI]':<22}"
          f"{'inconclusive':<22}{'med. requests':>14}{'med. labels':>12}")
    for p in points:
        print(f"{p.case:<18}{p.difference:>+8.3f}  {_rate(p, 'promote'):<22}"
              f"{_rate(p, 'abort'):<22}{_rate(p, 'inconclusive'):<22}"
              f"{p.median_requests:>14.0f}{p.median_labels:>12.0f}")
    by_case = {p.case: p for p in points}
    if not judged:
        print("for comparison: not judged against the 5 % targets (see NOT_JUDGED)")
    elif "equal" in by_case and "2x margin worse" in by_case:
        false_abort, miss = by_case["equal"], by_case["2x margin worse"]
        print(f"false-abort rate (equal): {_rate(false_abort, 'abort')}; "
              f"miss rate (2x worse promoted): {_rate(miss, 'promote')}; target <= 0.05: "
              f"{'met' if max(false_abort.abort_rate, miss.promote_rate) <= 0.05 else 'NOT met'}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-releases", type=int, default=1000,
                        help="simulated releases per case (default 1000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the first case")
    parser.add_argument("--p-stable", type=float, default=0.95,
                        help="accuracy of the stable model (default 0.95)")
    parser.add_argument("--sections", nargs="*", choices=[s[0] for s in SECTIONS],
                        help="sections to run (default: all)")
    args = parser.parse_args(argv)
    chosen = args.sections or [s[0] for s in SECTIONS]
    print(f"{args.n_releases} releases per case, seed {args.seed}, "
          f"stable accuracy {args.p_stable}, margin {CanaryPlan().max_accuracy_drop}")
    for name, title, section in SECTIONS:
        if name in chosen:
            start = time.perf_counter()
            points = section(args)
            print_section(title, points, time.perf_counter() - start,
                          judged=name not in NOT_JUDGED)


if __name__ == "__main__":
    main()
