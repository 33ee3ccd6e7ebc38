"""Deployment strategies over one router: blue-green, canary, shadow and A/B test.

A :class:`Router` holds named model slots and answers every request with exactly one
model version, logging slot, version, latency, error and (later) the label. Each
strategy moves traffic between the router's slots by its own rules and can roll back:

- :class:`BlueGreenRelease`: health-check the idle slot, switch everyone at once;
- :class:`CanaryRelease`: growing share of traffic, guardrails at every step;
- :class:`ShadowRelease`: the candidate answers in the background, users never see it;
- :class:`ABTest`: sticky user groups and a test of two conversion rates.

The HTTP server (:func:`mlcicd.deploy.serve.create_app`) needs the ``serve`` extra
and is not imported here.

Examples
--------
>>> from sklearn.dummy import DummyClassifier
>>> from mlcicd.deploy import ModelVersion, Router
>>> m = DummyClassifier().fit([[0], [1]], [0, 1])
>>> router = Router({"blue": ModelVersion(m, "v1"), "green": None})
>>> router.route([0.0], key="user-1").version
'v1'
"""

from mlcicd.deploy.ab_stats import (
    PeekingRates,
    SampleRatioResult,
    TwoProportionResult,
    assign_groups,
    cohens_h,
    peeking_error_rates,
    required_sample_size,
    sample_ratio_mismatch,
    sequential_ab_interval,
    simulate_ab,
    two_proportion_ztest,
)
from mlcicd.deploy.ab_test import ABTest, ABTestReport, analyze_ab
from mlcicd.deploy.base import Release
from mlcicd.deploy.blue_green import BlueGreenRelease, HealthCheck, HealthReport
from mlcicd.deploy.canary import CanaryAnalysis, CanaryPlan, CanaryRelease
from mlcicd.deploy.hashing import stable_bucket, stable_buckets
from mlcicd.deploy.plots import plot_traffic
from mlcicd.deploy.router import BatchResponse, Response, Router
from mlcicd.deploy.shadow import ShadowRelease, ShadowReport
from mlcicd.deploy.shadow_rule import ShadowRule, simulate_shadow
from mlcicd.deploy.versions import ModelVersion, RoutingTable

__all__ = [
    "ABTest",
    "ABTestReport",
    "BatchResponse",
    "BlueGreenRelease",
    "CanaryAnalysis",
    "CanaryPlan",
    "CanaryRelease",
    "HealthCheck",
    "HealthReport",
    "ModelVersion",
    "PeekingRates",
    "Release",
    "Response",
    "Router",
    "RoutingTable",
    "SampleRatioResult",
    "ShadowRelease",
    "ShadowReport",
    "ShadowRule",
    "TwoProportionResult",
    "analyze_ab",
    "assign_groups",
    "cohens_h",
    "peeking_error_rates",
    "plot_traffic",
    "required_sample_size",
    "sample_ratio_mismatch",
    "sequential_ab_interval",
    "simulate_ab",
    "simulate_shadow",
    "stable_bucket",
    "stable_buckets",
    "two_proportion_ztest",
]
