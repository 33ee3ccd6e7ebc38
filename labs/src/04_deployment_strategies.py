# %% [markdown]
# # Lab 4: Deployment strategies
#
# A model that passed every test can still fail in production. How you release it
# decides how many users it can hurt before you notice, and how fast you can undo it.
# In this lab you release real models through a router that answers every request with
# exactly one model version, with the four classic strategies.
#
# **Learning objectives.** After this lab you can:
#
# 1. run a blue-green release: health-check the idle environment, switch everyone at
#    once, roll back at once;
# 2. run a canary release that promotes a good candidate and rolls back a bad one
#    automatically, on evidence with stated error rates, and write its guardrail;
# 3. shadow a candidate on live traffic without any user seeing its answers, and promote
#    it only on paired evidence that stays valid however often you look;
# 4. plan and read an A/B test: sticky groups by a stable hash, the sample size for a
#    given power, a test of two proportions and a sample-ratio check, and say why
#    peeking at a fixed-horizon test inflates its false discoveries;
# 5. choose a canary's margin from its simulated operating characteristic for a stated
#    risk, and test that the served model answers like the tested one (training-serving
#    skew) over real HTTP.

# %%
import hashlib
import math
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Markdown, display
from scipy import stats
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression

from mlcicd.artifacts import save_model
from mlcicd.deploy import (
    BlueGreenRelease,
    CanaryPlan,
    CanaryRelease,
    HealthCheck,
    ModelVersion,
    Router,
    ShadowRelease,
    analyze_ab,
    plot_traffic,
    required_sample_size,
    simulate_ab,
    two_proportion_ztest,
)
from mlcicd.deploy.ab_stats import peeking_error_rates
from mlcicd.deploy.serve import create_app
from mlcicd.drift import make_drifted, reference_data
from mlcicd.labs import checks, record
from mlcicd.labs.ranges import check_lab_parameters
from mlcicd.oc import largest_safe_margin, oc_curve
from mlcicd.skew import compare_answers, http_predictions
from mlcicd.testing import BackgroundServer

# %% [markdown]
# ## Parameters

# %% tags=["parameters"]
seed = 0  # seeds the data and the models
n_requests = 6000  # requests in each simulated stream of traffic
bad_candidate_turn = 0.5  # how wrong the bad candidate's training labels are, in [0, 1]
canary_steps = [0.05, 0.1, 0.25, 0.5, 1.0]  # canary shares of traffic
max_accuracy_drop = 0.05  # canary margin m: equal passes, 2m worse is stopped
min_smoke_accuracy = 0.9  # blue-green health check on the smoke set
baseline_rate = 0.10  # A/B test: conversion rate of A
expected_lift = 0.02  # A/B test: the gain of B we want to be able to detect
ab_power = 0.8  # A/B test: chance of detecting that gain when it is real
max_promote_risk = 0.10  # Step 7: how often a candidate max_accuracy_drop worse may pass

# %% [markdown]
# Every parameter has a legal range (`labs/params.yaml`); this cell stops the lab with
# one sentence if a value is outside it.

# %%
check_lab_parameters("04_deployment_strategies", globals())

# %% [markdown]
# ## Step 1: three model versions
#
# The world of Lab 1 (two features, label `1` when `x2 > x1`). In production: `v1`, a
# random forest. Two candidates: `v2`, a linear model (the rule *is* linear, so it should
# do better), and `v3`, a forest trained on a batch whose labels came from a wrong rule
# (a labelling bug upstream): it looks fine in its own cross-validation, and is not.

# %%
X_train, y_train = reference_data(n=2000, seed=seed)
X_bad, y_bad = make_drifted("concept", bad_candidate_turn, n=2000, seed=seed)
v1 = ModelVersion(RandomForestClassifier(n_estimators=50, random_state=seed)
                  .fit(X_train, y_train), "v1-forest")
v2 = ModelVersion(LogisticRegression().fit(X_train, y_train), "v2-linear")
v3 = ModelVersion(RandomForestClassifier(n_estimators=50, random_state=seed)
                  .fit(X_bad, y_bad), "v3-mislabelled")
X_live, y_live = reference_data(n=n_requests, seed=seed + 1)
accuracy = pd.Series({v.version: (v.model.predict(X_live) == y_live).mean() for v in (v1, v2, v3)},
                     name="accuracy on live traffic")
display(accuracy.round(4).to_frame())

# %% [markdown]
# ## Step 2: blue-green
#
# Two complete environments. Blue serves everyone; the candidate goes to green, is
# health-checked on a smoke set there, and only then takes all traffic, in one switch.
# A candidate that fails its check never sees a user; a rollback is one more switch.

# %%
X_smoke, y_smoke = reference_data(n=200, seed=seed + 2)
router = Router({"blue": v1, "green": None})
blue_green = BlueGreenRelease(router, HealthCheck(X_smoke, y_smoke,
                                                  min_accuracy=min_smoke_accuracy))
refused = blue_green.deploy(v3)
print(f"{v3.version}: health check {'passed' if refused.passed else 'failed'}")
display(refused.to_frame()[["name", "passed", "value", "limit"]])
released = blue_green.release(v2)
before = n_requests // 2  # half the traffic before the rollback, a quarter after
router.route_batch(X_live.iloc[:before], keys=[f"user-{i}" for i in range(before)])
if released.passed:
    blue_green.rollback()
else:  # a strict min_smoke_accuracy can refuse v2 too: then nothing switched
    print(f"{v2.version}: health check failed too, so blue kept every user and there is "
          "nothing to roll back")
after = n_requests // 4
router.route_batch(X_live.iloc[before:before + after], keys=[f"user-{i}" for i in range(after)])
display(blue_green.history_frame())
record("blue_green_refused_bad", not refused.passed)

# %% [markdown]
# Everyone moved at once, both ways: that is the strength (one switch, instant rollback,
# the old version still warm) and the cost (two full environments, and every user is
# exposed as soon as you switch).
#
# ## Exercise 1: the canary guardrail
#
# A canary sends a small share of traffic to the candidate and decides, on evidence,
# whether it may go on. The evidence is **paired**: each labelled canary request is also
# answered by the stable model (unseen by the user), so the two are compared on the same
# rows. A *confidence sequence* turns the counts into bounds on the accuracy difference
# `d = canary - stable` that stay valid however often they are read, so looking after
# every batch does not inflate the error rates.
#
# The rule, with margin `m`: the canary is **worse for sure** when the upper bound is
# below 0; it is **close enough** when the lower bound is above `-2 m`. Write
# `canary_decision(n_pairs, estimate, lower, upper, margin, min_labels)`:
#
# - `"wait"` while `n_pairs < min_labels` (the bounds are not trusted on fewer);
# - if both "worse for sure" and "close enough" hold, side with the estimate:
#   `"promote"` when `estimate >= -margin`, else `"abort"`;
# - else `"abort"` when worse for sure, `"promote"` when close enough, `"wait"` otherwise.
#
# So a candidate as good as stable is aborted with probability at most alpha, one `2 m`
# worse is promoted with probability at most beta, and one `m` worse goes either way.

# %% tags=["solution"]
def canary_decision(n_pairs: int, estimate: float, lower: float, upper: float,
                    margin: float, min_labels: int) -> str:
    """``"wait"``, ``"abort"`` or ``"promote"`` from the bounds of canary - stable."""
    if n_pairs < min_labels:
        return "wait"
    worse = upper < 0
    close_enough = lower > -2 * margin
    if worse and close_enough:
        return "promote" if estimate >= -margin else "abort"
    if worse:
        return "abort"
    return "promote" if close_enough else "wait"


# %%
checks.check_canary_decision(canary_decision)

# %% [markdown]
# ## Step 3: a canary that promotes a good candidate and rolls back a bad one
#
# The library's `CanaryRelease` applies the same rule (plus an error-rate guardrail) after
# every batch of requests. A step may *continue* only after it served `min_requests`
# canary requests; an abort needs no minimum, because the bounds are valid at every
# sample size. Users are assigned by a stable hash of their id, so raising the canary's
# share only adds users. If the traffic ends before the evidence decides, the release
# is *inconclusive*: everyone goes back to stable and nothing is promoted.

# %%
plan = CanaryPlan(steps=tuple(canary_steps), min_requests=100,
                  max_accuracy_drop=max_accuracy_drop, min_labels=30)
print("the rule's risks:", plan.rule.risks())
canaries = {}
for candidate in (v2, v3):
    stream = Router({"stable": v1, "canary": None})
    release = CanaryRelease(stream, candidate, plan).run(X_live, y_live)
    canaries[candidate.version] = release
    served = int((stream.events_frame()["version"] == candidate.version).sum())
    timeline = release.timeline_frame()
    pairs = int(timeline["labelled"].iloc[-1]) if len(timeline) else 0
    print(f"{candidate.version}: {release.status_} after {pairs} labelled pairs; it answered "
          f"{served} of {stream.n_requests} requests; live now: {stream.live_versions()}")
    shown = ["step", "weight", "requests_so_far", "labelled", "difference", "difference_low",
             "difference_high", "decision"]
    display(timeline[[c for c in shown if c in timeline]].round(3))
record("canary_good_status", canaries[v2.version].status_)
record("canary_bad_status", canaries[v3.version].status_)

# %%
canaries[v3.version].plot()
plt.show()

# %%
bad = canaries[v3.version]
bad_served = int((bad.router.events_frame()["version"] == v3.version).sum())
true_gap = accuracy[v3.version] - accuracy[v1.version]
if bad.status_ == "aborted":
    print(f"{v3.version} (truly {true_gap:+.3f} against {v1.version}) was stopped after "
          f"answering {bad_served} requests: only the users in the canary's share saw it. "
          "Blue-green would have sent it to everyone had it passed the smoke test.")
elif bad.status_ == "promoted":
    print(f"{v3.version} (truly {true_gap:+.3f} against {v1.version}) was promoted: with "
          f"margin {max_accuracy_drop}, a candidate this close to stable is one the rule "
          "lets through (only one at least twice the margin worse must be stopped).")
else:
    print(f"{v3.version} (truly {true_gap:+.3f} against {v1.version}) ended {bad.status_!r}: "
          f"the {n_requests} requests ran out before the evidence decided, so nothing was "
          "promoted and stable serves everyone.")

# %% [markdown]
# Compare the number of requests the bad candidate answered with the blue-green release
# above, where a model that passed the smoke test reached every user at once. Try the
# `subtle_bad_candidate` parameter set, a candidate only slightly worse than production,
# and read what the rule decides and after how much evidence.
#
# ## Step 4: shadow
#
# The candidate sees a copy of every request, off the request path; users only ever get
# production's answer, so a failing or slow shadow cannot hurt them. Once labels arrive,
# both are compared on the same requests. As in the canary, the evidence is **paired**
# (only rows where exactly one model is right carry information) and read with a
# confidence sequence, so the report may be read after every batch: the shadow is
# *kept out* when it is shown worse and *promoted* when it is shown at most `2 m` worse;
# before `min_samples` labelled pairs, or while the bounds say neither, it *waits*. A
# request key seen twice (a replayed row) counts once.

# %%
router = Router({"live": v1, "shadow": None})
shadow = ShadowRelease(router, v2, max_pending=100_000, timeout_s=60.0, min_samples=200,
                       margin=max_accuracy_drop)
shadow.run(X_live.iloc[:2000], y_live.iloc[:2000])
report = shadow.report_
print("the rule's risks:", shadow.rule.risks())
print(f"agreement {report.agreement:.3f}; accuracy on {report.labelled} labelled pairs: "
      f"production {report.production_accuracy:.3f}, shadow {report.shadow_accuracy:.3f}")
if report.interval is not None:
    print(f"shadow - production: {report.interval.estimate:+.3f}, two-sided always-valid "
          f"interval [{report.interval.low:+.3f}, {report.interval.high:+.3f}] (for reading; "
          "the rule decides with the one-sided bounds at its own levels, named in its reason)")
print(f"decision ({report.analysis}): {report.decision} ({report.reason})")
served = router.events_frame()["version"].value_counts()
print("answers users received, by version:", served.to_dict())
if report.decision == "promote":
    shadow.promote()
    print("promoted: live now", router.live_versions())
else:
    print(f"not promoted ({report.decision}): production keeps serving, live "
          f"{router.live_versions()}")
record("shadow_decision", report.decision)

# %%
plot_traffic(router)
plt.show()

# %% [markdown]
# ## Exercise 2: sticky A/B groups
#
# An A/B test shows model A to some users and model B to others, and each user must stay
# in the same group for the whole test, even across processes and servers. Python's
# `hash()` of a string changes from one process to the next; a cryptographic hash does
# not. Write `assign_group(user_id, share_b)`: hash the id with `hashlib.sha256`, turn
# the digest into a number in [0, 1), and return `"B"` below `share_b`, else `"A"`.

# %% tags=["solution"]
def assign_group(user_id: str, share_b: float) -> str:
    """Sticky group of a user: ``"B"`` for a share ``share_b`` of users, else ``"A"``."""
    digest = hashlib.sha256(user_id.encode("utf-8")).digest()
    bucket = int.from_bytes(digest[:8], "big") / 2**64
    return "B" if bucket < share_b else "A"


# %%
checks.check_assign_group(assign_group)

# %% [markdown]
# ## Exercise 3: how many users?
#
# Before starting an A/B test, decide how many users it needs; stopping when the result
# "looks significant" inflates false discoveries. For a two-sided test at level `alpha`
# with the given `power`, the users needed per group are (normal approximation):
#
# $$n = \frac{\left(z_{1-\alpha/2}\sqrt{2\bar p(1-\bar p)} + z_{\text{power}}
# \sqrt{p_A(1-p_A) + p_B(1-p_B)}\right)^2}{(p_B - p_A)^2},
# \qquad \bar p = \frac{p_A + p_B}{2}$$
#
# Write `users_needed(p_a, p_b, alpha, power)`, rounding up (`stats.norm.ppf` gives the
# z values).

# %% tags=["solution"]
def users_needed(p_a: float, p_b: float, alpha: float, power: float) -> int:
    """Users per group to detect ``p_a -> p_b`` with a two-sided test."""
    z_alpha = stats.norm.ppf(1 - alpha / 2)
    z_power = stats.norm.ppf(power)
    p_bar = (p_a + p_b) / 2
    spread = (z_alpha * math.sqrt(2 * p_bar * (1 - p_bar))
              + z_power * math.sqrt(p_a * (1 - p_a) + p_b * (1 - p_b)))
    return math.ceil(spread**2 / (p_b - p_a) ** 2)


# %%
checks.check_users_needed(users_needed)

# %% [markdown]
# ## Step 5: run the A/B test
#
# The library computes the same sample size. We simulate that many users per group,
# with B truly better by `expected_lift`, then test the difference of the two conversion
# rates once, at the planned size (the *fixed-horizon* analysis), and check that the
# groups have the planned sizes (a sample-ratio mismatch means the assignment is broken
# and the result cannot be trusted).

# %%
p_b = baseline_rate + expected_lift
per_group = required_sample_size(baseline_rate, p_b, power=ab_power)
print(f"users needed per group: {per_group:,}")
users = simulate_ab(2 * per_group, baseline_rate, p_b, seed=seed)
ab = analyze_ab(users["group"], users["converted"])
display(Markdown(ab.to_markdown()))
record("ab_users_per_group", per_group)
record("ab_recommendation", ab.recommendation)

# %%
ab.plot()
plt.show()

# %% [markdown]
# One experiment is one draw. Planned for a power of `ab_power`, a real lift is still
# missed `1 - ab_power` of the time; simulate many experiments at this plan and count.

# %%
rng = np.random.default_rng(seed)
n_experiments = 400
found = 0
for _ in range(n_experiments):
    x_a, x_b = rng.binomial(per_group, baseline_rate), rng.binomial(per_group, p_b)
    test = two_proportion_ztest(int(x_a), per_group, int(x_b), per_group)
    found += bool(test.pvalue < 0.05 and x_b > x_a)
print(f"over {n_experiments} simulated experiments of {per_group:,} users per group, the real "
      f"lift of {expected_lift:.1%} was found {found / n_experiments:.0%} of the time "
      f"(planned power {ab_power:.0%}).")
record("ab_measured_power", found / n_experiments)

# %% [markdown]
# ## Step 6: peeking
#
# In practice an A/B dashboard is looked at every day, and the temptation is to stop as
# soon as it says "significant". The z-test's 5 % holds for one look at the planned size
# only; every extra look is another chance for noise to cross the line. Simulate
# experiments where A and B are *equal*, read after each of ten batches: the fixed-horizon
# test read every time "finds" a difference far more often than 5 %; the sequential
# (always-valid) reading does not, which is why `analyze_ab(..., analysis="sequential")`
# is the one to use when you look before the end.

# %%
peeking = peeking_error_rates(n_experiments=200, looks=10,
                              users_per_look=max(50, per_group // 10), rate=baseline_rate,
                              seed=seed)
print(f"equal A and B, 200 experiments, 10 looks of {peeking.users_per_look:,} users per "
      f"group: a difference is declared in {peeking.fixed_once:.0%} when the z-test is read "
      f"once, {peeking.fixed_every_look:.0%} when it is read at every look, and "
      f"{peeking.sequential_every_look:.0%} with the sequential reading at every look.")
sequential = analyze_ab(users["group"], users["converted"], analysis="sequential")
print(f"this experiment, read sequentially: {sequential.recommendation} ({sequential.reason})")
record("peeking_fixed_every_look", peeking.fixed_every_look)
record("peeking_sequential_every_look", peeking.sequential_every_look)

# %% [markdown]
# ## Step 7: which margin? The canary's operating characteristic
#
# The margin `m` of Step 3 is a promise with two sides: a candidate as good as stable is
# aborted at most alpha of the time, one `2 m` worse is promoted at most beta of the time,
# and one `m` worse may go either way. So the margin to pick follows from the risk you can
# accept: *"a candidate `max_accuracy_drop` worse than stable may be promoted at most
# `max_promote_risk` of the time"*. Whether a margin keeps that promise is measured, not
# argued: `oc_curve` plays many seeded releases (the same decision function as
# `CanaryRelease`, fed with simulated counts) for a few true differences and counts how
# often each ends in a promotion, with a 95 % Clopper-Pearson interval. Here, 100 releases
# per difference for two margins: `max_accuracy_drop` and half of it. With paired evidence
# the curve depends mostly on how often the two models disagree (by default on 4 % of
# rows beside the difference itself), little on stable's own accuracy (95 % here).

# %%
worse_by = max_accuracy_drop
margins = (max_accuracy_drop / 2, max_accuracy_drop)
differences = (0.0, -worse_by / 2, -worse_by, -2 * worse_by)
p_stable = 0.95  # stable's accuracy in the simulation (the curve depends mostly on pairs)
curves = {}
for margin in margins:
    margin_plan = CanaryPlan(steps=tuple(canary_steps), min_requests=100,
                             max_accuracy_drop=margin, min_labels=30)
    curves[margin] = oc_curve(margin_plan, p_stable, differences, n_releases=100, seed=seed,
                              batch_size=200, max_requests=n_requests)
oc_table = pd.concat({f"margin {m:g}": c.set_index("difference")[
    ["promote_rate", "promote_high", "median_requests"]] for m, c in curves.items()}, axis=1)
display(oc_table.round(3))

fig, ax = plt.subplots(figsize=(6.5, 3.5))
for margin, curve in curves.items():
    ax.plot(curve["difference"], curve["promote_rate"], "o-", label=f"margin {margin:g}")
ax.axvline(-worse_by, color="0.6", ls=":")
ax.axhline(max_promote_risk, color="#c44e52", ls="--", label="the risk you accept")
ax.set_xlabel("true accuracy difference (candidate - stable)")
ax.set_ylabel("P(promote)")
ax.legend(fontsize="small")
plt.show()

# %% [markdown]
# ## Exercise 4: pick the margin
#
# Write `pick_margin(curves, worse_by, max_risk)`. `curves` maps each margin to its
# `oc_curve` frame. A margin is **safe** when, on the row whose `difference` is closest to
# `-worse_by`, the upper 95 % bound `promote_high` is at most `max_risk` (the bound, not
# the estimate: 100 releases cannot show a rate is small more precisely than that). Return
# the **largest** safe margin (a wider margin promotes good candidates sooner), or `None`
# when no margin is safe.

# %% tags=["solution"]
def pick_margin(curves: dict, worse_by: float, max_risk: float) -> float | None:
    """The largest margin whose canary promotes a ``worse_by``-worse candidate rarely enough."""
    safe = []
    for margin, curve in curves.items():
        nearest = (curve["difference"] + worse_by).abs().idxmin()
        if curve.loc[nearest, "promote_high"] <= max_risk:
            safe.append(margin)
    return max(safe) if safe else None


# %%
checks.check_pick_margin(pick_margin)

# %%
chosen = largest_safe_margin(curves, worse_by, max_promote_risk)
for margin, curve in curves.items():
    at_worse = curve.loc[(curve["difference"] + worse_by).abs().idxmin()]
    at_equal = curve.loc[curve["difference"].abs().idxmin()]
    print(f"margin {margin:g}: a candidate {worse_by:g} worse promoted in "
          f"{at_worse['promote_rate']:.0%} of releases (upper bound "
          f"{at_worse['promote_high']:.0%}); an equal one promoted in "
          f"{at_equal['promote_rate']:.0%}, after a median of "
          f"{at_equal['median_requests']:,.0f} requests")
if chosen is None:
    print(f"Neither margin keeps a {worse_by:g}-worse candidate under {max_promote_risk:.0%} "
          "with 95 % confidence: take a smaller margin, run more releases, or accept more risk.")
else:
    print(f"Pick margin {chosen:g}: the largest one that promotes a {worse_by:g}-worse "
          f"candidate at most {max_promote_risk:.0%} of the time (95 % upper bound).")
record("oc_chosen_margin", chosen)

# %% [markdown]
# The rule promises beta only for a candidate `2 m` worse; for one `m` worse it promises
# nothing, so a risk stated at `max_accuracy_drop` needs a margin of about half of it,
# or a measurement showing a wider one is enough. The price of a smaller margin is
# evidence: more requests before a good candidate is promoted, and more releases that
# run out of traffic undecided.
#
# ## Step 8: training-serving skew, tested over HTTP
#
# Every check so far scored `model.predict` on a DataFrame. Users are answered by another
# path: a client turns a row into JSON, the server parses it and calls the model. If that
# path changes the features (column order, units, rounding, a default for a missing
# value), the served answers differ from the tested ones, and no offline metric shows it.
# The test is direct: save the model as an artifact, serve it on 127.0.0.1, send held-out
# rows over HTTP, and compare the answers row by row with the offline ones.
#
# `BackgroundServer` runs in this process the same app `mlcicd serve --model DIR` runs in
# its own (a router with the artifact live in blue), so no second Python starts; the
# `with` block stops the server however the block ends. Beside the project's client we
# send the rows through a client written from a wrong reading of the API: it sends every
# feature as a whole number.

# %%
def integer_client(url: str, rows: pd.DataFrame) -> list:
    """A buggy serving wrapper: it truncates every feature to an integer before sending."""
    return http_predictions(url, rows.astype(int), key_prefix="integer-client")


held_out = X_live.iloc[-100:]  # rows labelled by their position in the live stream
with tempfile.TemporaryDirectory(prefix="lab4-skew-") as folder:
    save_model(v2.model, Path(folder) / "v2")
    deployed = ModelVersion.from_artifact(Path(folder) / "v2")
with BackgroundServer(create_app(Router({"blue": deployed, "green": None}))) as url:
    served = http_predictions(url, held_out)
    served_buggy = integer_client(url, held_out)
offline = list(v2.model.predict(held_out))
print(f"served {len(held_out)} rows twice by {deployed.version} on 127.0.0.1; the server has "
      "stopped")

# %% [markdown]
# ## Exercise 5: compare the two paths
#
# Write `served_mismatches(offline, served, index)`: `offline` and `served` are the answers
# for the same rows, `index` the rows' labels. Return `(mismatch_rate, rows)`: the share
# of rows answered differently (a fraction of all rows) and the labels (from `index`, in
# order) of those rows. JSON may spell one label `1`, `1.0` or `"1"`, depending on the
# client: compare the answers as text, writing a whole number without its decimal point.

# %% tags=["solution"]
def served_mismatches(offline: list, served: list, index: list) -> tuple[float, list]:
    """Share of rows answered differently, and their labels."""
    def as_text(answer: object) -> str:
        number = isinstance(answer, int | float | np.integer | np.floating)
        if number and float(answer).is_integer():
            return str(int(answer))
        return str(answer)

    rows = [label for label, a, b in zip(index, offline, served, strict=True)
            if as_text(a) != as_text(b)]
    return len(rows) / len(index), rows


# %%
checks.check_served_mismatches(served_mismatches)

# %%
faithful = compare_answers(offline, served, index=held_out.index)
buggy = compare_answers(offline, served_buggy, index=held_out.index)
print("the project's client:", faithful.summary())
print("the integer client:  ", buggy.summary())
gap = (held_out["x2"] - held_out["x1"]).abs()
if buggy.n_mismatches:
    others = gap.drop(buggy.mismatches.index)
    near = gap[buggy.mismatches.index].median()
    if others.empty:
        print(f"All {buggy.n_mismatches} rows were answered differently "
              f"(median |x2 - x1| {near:.2f}).")
    else:
        typical = others.median()
        where = "closer to" if near < typical else "no closer to"
        print(f"The {buggy.n_mismatches} rows answered differently lie {where} the decision "
              f"boundary than the {len(others)} answered alike: median |x2 - x1| "
              f"{near:.2f} against {typical:.2f}.")
    display(held_out.loc[buggy.mismatches.index].assign(
        offline=buggy.mismatches["offline"], served=buggy.mismatches["served"]).head(5))
truth = y_live.loc[held_out.index].to_numpy()
offline_accuracy = float(np.mean(np.asarray(offline) == truth))
served_accuracy = float(np.mean(np.asarray(served_buggy, dtype=int) == truth))
print(f"Accuracy on these rows: {offline_accuracy:.3f} as tested, {served_accuracy:.3f} as the "
      "integer client's users see it; the gate only ever saw the first number.")
record("skew_faithful_mismatches", faithful.n_mismatches)
record("skew_buggy_mismatches", buggy.n_mismatches)

# %% [markdown]
# Truncating moves every row by less than one unit; only rows that end up on the other
# side of the boundary change class, which is why a skew test compares answers row by row
# rather than a summary metric. It belongs in the release pipeline between the gate and
# the canary: the gate vouches for the artifact, the skew test for the path to users.

# %% [markdown]
#
# ## Wrap-up
#
# | strategy | risk to users | rollback | extra cost | use it for |
# |---|---|---|---|---|
# | blue-green | everyone at once | instant switch | a second environment | fast cut-over |
# | canary | a small share first | automatic, any step | little | most model updates |
# | shadow | none | nothing to undo | a copy of the traffic | risky changes |
# | A/B test | the B group | everyone to A | little | measuring an effect |
#
# Blue-green when speed and a clean cut-over matter and the change is well tested;
# canary when the change is large or risky and you can afford a gradual release.
