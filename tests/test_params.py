"""The shared argument checks (mlcicd.params) and the Markdown table writer (mlcicd.markdown)."""

from __future__ import annotations

import numpy as np
import pytest

from mlcicd.drift import PopulationStabilityIndex
from mlcicd.errors import InputError
from mlcicd.markdown import table
from mlcicd.params import SEED, Boolean, Choice, Integer, Real, check, validate_params
from mlcicd.stats import bootstrap_diff_ci


@pytest.mark.parametrize("value", [3, np.int64(3), np.uint8(3)])
def test_integers_of_every_kind_pass_and_come_back_as_int(value):
    result = check("f", "n", value, Integer(1, 10))
    assert result == 3 and type(result) is int


@pytest.mark.parametrize("value", [True, np.True_, 3.0, "3", None, [3]])
def test_a_flag_a_float_or_text_is_not_an_integer(value):
    with pytest.raises(InputError, match=r"^f: n must be an integer in \[1, 10\], got "):
        check("f", "n", value, Integer(1, 10))


@pytest.mark.parametrize(
    ("closed", "low_ok", "high_ok"),
    [("both", True, True), ("left", True, False), ("right", False, True),
     ("neither", False, False)],
)
def test_interval_ends_are_open_or_closed_as_declared(closed, low_ok, high_ok):
    constraint = Real(0, 1, closed=closed)
    assert constraint.accepts(0.5)
    assert constraint.accepts(0) is low_ok and constraint.accepts(1.0) is high_ok
    assert not constraint.accepts(float("nan")) and not constraint.accepts(True)


def test_the_message_names_caller_argument_expectation_and_a_short_value():
    with pytest.raises(InputError) as error:
        check("split_frame", "test_size", "x" * 5000, Real(0, 1, closed="neither"))
    message = str(error.value)
    assert message.startswith("split_frame: test_size must be a number in (0, 1), got 'xxx")
    assert len(message) < 150


def test_choice_boolean_and_seed():
    assert check("f", "mode", "abrupt", Choice(("abrupt", "gradual"))) == "abrupt"
    with pytest.raises(InputError, match="mode must be one of 'abrupt', 'gradual', got 'up'"):
        check("f", "mode", "up", Choice(("abrupt", "gradual")))
    with pytest.raises(InputError, match="one of"):
        check("f", "mode", ["unhashable"], Choice(("abrupt",)))
    assert check("f", "flag", np.False_, Boolean()) is False
    with pytest.raises(InputError, match="flag must be True or False, got 0"):
        check("f", "flag", 0, Boolean())
    assert check("f", "seed", 2**32 - 1, SEED) == 2**32 - 1
    with pytest.raises(InputError, match=r"seed must be an integer in \[0, 4294967295\]"):
        check("f", "seed", 2**32, SEED)


def test_the_decorator_checks_converts_and_lets_a_none_default_through():
    @validate_params(n=Integer(low=1), share=Real(0, 1), limit=Integer(low=0))
    def f(n, share=0.5, limit=None):
        return n, share, limit

    assert f(np.int32(2), share=1) == (2, 1.0, None)
    assert type(f(2, share=1)[1]) is float
    with pytest.raises(InputError, match="^f: n must be a positive integer, got 0$"):
        f(0)
    with pytest.raises(TypeError, match="no argument named"):
        validate_params(missing=Integer())(f)


def test_library_functions_refuse_through_the_shared_check():
    with pytest.raises(InputError, match="PopulationStabilityIndex: bins must be an integer >= 2"):
        PopulationStabilityIndex(bins=True)
    with pytest.raises(InputError, match="bootstrap_diff_ci: n_resamples must be an integer in"):
        bootstrap_diff_ci([1, 0], [1, 0], [1, 1], n_resamples=True)


def test_table_cells_cannot_break_the_table():
    text = table([["a|b", "two\nlines"], [None, 1.5]], headers=["feature", "note"], align="lr")
    lines = text.splitlines()
    assert lines == ["| feature | note |", "|---|---:|", "| a\\|b | two lines |", "|  | 1.5 |"]
    # every row has as many unescaped separators as the header
    assert {line.replace("\\|", "").count("|") for line in lines} == {3}


def test_table_refuses_rows_of_the_wrong_width_and_unknown_alignment():
    with pytest.raises(ValueError, match="2 cells for 3 headers"):
        table([[1, 2]], headers=["a", "b", "c"])
    with pytest.raises(ValueError, match="align"):
        table([[1]], headers=["a"], align="x")
