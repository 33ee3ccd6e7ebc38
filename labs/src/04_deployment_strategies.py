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
#    automatically, and write its guardrail;
# 3. shadow a candidate on live traffic without any user seeing its answers;
# 4. plan and read an A/B test: sticky groups by a stable hash, the sample size for a
#    given power, a test of two proportions and a sample-ratio check.

# %%
import hashlib
import math

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display
from scipy import stats
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression

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
)
from mlcicd.drift import make_drifted, reference_data
from mlcicd.labs import checks, record

# %% [markdown]
# ## Parameters

# %% tags=["parameters"]
seed = 0  # seeds the data and the models
n_requests = 6000  # requests in each simulated stream of traffic
bad_candidate_turn = 0.5  # how wrong the bad candidate's training labels are, in [0, 1]
canary_steps = [0.05, 0.1, 0.25, 0.5, 1.0]  # canary shares of traffic
max_accuracy_drop = 0.05  # canary guardrail: largest accuracy drop allowed
min_smoke_accuracy = 0.9  # blue-green health check on the smoke set
baseline_rate = 0.10  # A/B test: conversion rate of A
expected_lift = 0.02  # A/B test: the gain of B we want to be able to detect
ab_power = 0.8  # A/B test: chance of detecting that gain when it is real

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
blue_green.release(v2)
router.route_batch(X_live.iloc[:1000], keys=[f"user-{i}" for i in range(1000)])
blue_green.rollback()
router.route_batch(X_live.iloc[1000:1500], keys=[f"user-{i}" for i in range(500)])
display(blue_green.history_frame())
record("blue_green_refused_bad", not refused.passed)

# %% [markdown]
# Everyone moved at once, both ways: that is the strength (one switch, instant rollback,
# the old version still warm) and the cost (two full environments, and every user is
# exposed as soon as you switch).
#
# ## Exercise 1: the canary guardrail
#
# A canary sends a small share of traffic to the candidate and checks it at every step.
# Write the accuracy guardrail: `"wait"` while fewer than `min_labels` canary requests
# have a label (too little evidence, however the numbers look), then `"abort"` when the
# canary's accuracy is more than `max_drop` below the stable model's, else `"continue"`.

# %% tags=["solution"]
def canary_decision(canary_accuracy: float, stable_accuracy: float, n_labelled: int,
                    max_drop: float, min_labels: int) -> str:
    """``"wait"``, ``"abort"`` or ``"continue"`` for one canary step."""
    if n_labelled < min_labels:
        return "wait"
    if stable_accuracy - canary_accuracy > max_drop:
        return "abort"
    return "continue"


# %%
checks.check_canary_decision(canary_decision)

# %% [markdown]
# ## Step 3: a canary that promotes a good candidate and rolls back a bad one
#
# The library's `CanaryRelease` applies the same guardrail (plus an error-rate limit) at
# each step of the plan. Users are assigned by a stable hash of their id, so raising the
# canary's share only adds users: nobody flips back and forth between versions.

# %%
plan = CanaryPlan(steps=tuple(canary_steps), min_requests=100,
                  max_accuracy_drop=max_accuracy_drop, min_labels=50)
canaries = {}
for candidate in (v2, v3):
    stream = Router({"stable": v1, "canary": None})
    canaries[candidate.version] = CanaryRelease(stream, candidate, plan).run(X_live, y_live)
    release = canaries[candidate.version]
    served = int((stream.events_frame()["version"] == candidate.version).sum())
    print(f"{candidate.version}: {release.status_} after answering {served} of "
          f"{stream.n_requests} requests; live now: {stream.live_versions()}")
    shown = ["step", "weight", "requests_so_far", "canary_accuracy", "stable_accuracy",
             "decision"]
    display(release.timeline_frame()[shown].round(3))
record("canary_good_status", canaries[v2.version].status_)
record("canary_bad_status", canaries[v3.version].status_)

# %%
canaries[v3.version].plot()
plt.show()

# %% [markdown]
# The bad candidate was stopped as soon as its step had enough labelled requests: only
# the users in the canary's share ever saw it (count them above). Compare with
# blue-green, where a bad model that passed the smoke test would have reached everyone:
# the `subtle_bad_candidate` parameter set shows exactly that case.
#
# ## Step 4: shadow
#
# The candidate sees a copy of every request, off the request path; users only ever get
# production's answer, so a failing or slow shadow cannot hurt them. Once labels arrive,
# both are compared on the same requests, and a paired test (McNemar) decides whether
# the gain is real.

# %%
router = Router({"live": v1, "shadow": None})
shadow = ShadowRelease(router, v2, max_pending=100_000, timeout_s=60.0, min_samples=200)
shadow.run(X_live.iloc[:2000], y_live.iloc[:2000])
report = shadow.report_
print(f"agreement {report.agreement:.3f}; accuracy: production "
      f"{report.production_accuracy:.3f}, shadow {report.shadow_accuracy:.3f}")
print(f"decision: {report.decision} ({report.reason})")
served = router.events_frame()["version"].value_counts()
print("answers users received, by version:", served.to_dict())
shadow.promote()
print("live after promotion:", router.live_versions())
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
# rates and check that the groups have the planned sizes (a sample-ratio mismatch means
# the assignment is broken and the result cannot be trusted).

# %%
per_group = required_sample_size(baseline_rate, baseline_rate + expected_lift, power=ab_power)
print(f"users needed per group: {per_group:,}")
users = simulate_ab(2 * per_group, baseline_rate, baseline_rate + expected_lift, seed=seed)
ab = analyze_ab(users["group"], users["converted"])
display(Markdown(ab.to_markdown()))
record("ab_users_per_group", per_group)
record("ab_recommendation", ab.recommendation)

# %%
ab.plot()
plt.show()

# %% [markdown]
# Even with the planned sample, a real lift is missed `1 - power` of the time: run the
# `underpowered_ab` parameter set, which plans for 50 % power, and see how often
# "no significant difference" comes back for a gain that is there.
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
