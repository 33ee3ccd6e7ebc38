"""Self-check functions for the lab exercises: a clear pass, or a hint that says what is wrong.

A lab notebook imports this module and calls, for each exercise, the matching
``check_*`` function with the learner's answer (usually the function they wrote)::

    from mlcicd.labs import checks
    checks.check_schema(make_schema)

The result shows as ``PASS: ...`` or ``NOT YET: <hint>``; see
:mod:`mlcicd.labs.checking` for the machinery. The checks of each lab
live in their own module and are all re-exported here.
"""

from mlcicd.labs.checking import CheckResult
from mlcicd.labs.checks_behaviour import (
    check_directional,
    check_point_estimate_fail_rate,
    check_size_slices,
)
from mlcicd.labs.checks_deploy import (
    check_assign_group,
    check_canary_decision,
    check_served_mismatches,
    check_users_needed,
)
from mlcicd.labs.checks_drift import (
    check_bonferroni,
    check_covariate_shift,
    check_first_alarm_batch,
    check_psi,
    check_quiet_size,
)
from mlcicd.labs.checks_pipeline import check_first_drifted_window, check_monitor_decision
from mlcicd.labs.checks_pytests import check_integration_tests, check_performance_tests
from mlcicd.labs.checks_release import (
    check_gate_yaml,
    check_interval_reading,
    check_pick_margin,
    check_regressed_metrics,
)
from mlcicd.labs.checks_testing import check_repair, check_schema

__all__ = [
    "CheckResult",
    "check_assign_group",
    "check_bonferroni",
    "check_canary_decision",
    "check_covariate_shift",
    "check_directional",
    "check_first_alarm_batch",
    "check_first_drifted_window",
    "check_gate_yaml",
    "check_integration_tests",
    "check_interval_reading",
    "check_monitor_decision",
    "check_performance_tests",
    "check_pick_margin",
    "check_point_estimate_fail_rate",
    "check_psi",
    "check_quiet_size",
    "check_regressed_metrics",
    "check_repair",
    "check_schema",
    "check_served_mismatches",
    "check_size_slices",
    "check_users_needed",
]
