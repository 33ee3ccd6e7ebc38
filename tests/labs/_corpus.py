"""Shared harness of the answer corpora: registering answers, and running one through its check.

``wrong_labN.py`` register their answers with ``@wrong("lab", "exercise", "what is wrong")``;
the outsider files keep their own lists with :func:`registrar`. Every answer, whoever wrote
it, reaches its check through :func:`run_check`, which passes the same arguments as the
notebook, so a corpus cannot drift from the lab it tests.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest

from mlcicd.labs import checks

#: (lab, exercise, what the answer gets wrong, the answer), in definition order.
ANSWERS: list[tuple[str, str, str, Any]] = []


def wrong(lab: str, exercise: str, mistake: str) -> Callable[[Any], Any]:
    """Register the decorated answer (a function, or a list of test functions) as wrong."""

    def register(answer: Any) -> Any:
        ANSWERS.append((lab, exercise, mistake, answer))
        return answer

    return register


def registrar(into: list[tuple[str, Any]]) -> Callable[[Any], Any]:
    """A decorator that appends ``(answer.__name__, answer)`` to ``into``."""

    def register(answer: Any) -> Any:
        into.append((answer.__name__, answer))
        return answer

    return register


def run_check(exercise: str, answer: Any, fixtures: Mapping[str, Any] | None = None) -> Any:
    """The check of ``exercise`` on ``answer``, with the arguments the notebook gives it.

    ``fixtures`` (from :func:`mlcicd.labs.testrun.lab_fixtures`) is needed only by the
    exercises that run on the lab's model or rows.
    """
    check = getattr(checks, f"check_{exercise}")
    if exercise == "integration_tests":
        return check(answer, make_pipeline=fixtures["make_pipeline"],
                     train_with_gaps=fixtures["train_with_gaps"], test_df=fixtures["test_df"])
    if exercise in ("performance_tests", "directional"):
        return check(answer, model=fixtures["model"], test_df=fixtures["test_df"])
    if exercise == "size_slices":
        return check(answer, test_df=fixtures["test_df"])
    return check(answer)


def exercise_named(answer: Any, exercise_of_prefix: Mapping[str, str]) -> str:
    """The exercise an outsider's answer is for, read off the start of its name."""
    return next(exercise for prefix, exercise in exercise_of_prefix.items()
                if answer.__name__.startswith(prefix))


def outsider_tests(wrong: list[tuple[str, Any]], right: list[tuple[str, Any]],
                   exercise_of_prefix: Mapping[str, str], *, fixture: str | None = None
                   ) -> tuple[Callable[..., None], Callable[..., None], Callable[[], None]]:
    """The three tests of an outsider's answer file, for its module to name ``test_...``.

    Every wrong answer gets NOT YET, every right one passes, and each exercise has at
    least eight wrong and three right answers. ``fixture`` names the module's pytest
    fixture of :func:`mlcicd.labs.testrun.lab_fixtures`, for the exercises that run on
    the lab's model or rows.
    """

    def check(answer: Any, request: pytest.FixtureRequest) -> Any:
        fixtures = request.getfixturevalue(fixture) if fixture else None
        return run_check(exercise_named(answer, exercise_of_prefix), answer, fixtures)

    @pytest.mark.parametrize(("name", "answer"), wrong, ids=[n for n, _ in wrong])
    def wrong_answer_gets_not_yet(name: str, answer: Any, request: pytest.FixtureRequest):
        result = check(answer, request)
        assert str(result).startswith("NOT YET: "), f"{name} passed: {result}"

    @pytest.mark.parametrize(("name", "answer"), right, ids=[n for n, _ in right])
    def right_answer_passes(name: str, answer: Any, request: pytest.FixtureRequest):
        result = check(answer, request)
        assert result.passed, f"{name} rejected: {result}"

    def every_step_has_eight_wrong_and_three_right_answers() -> None:
        for prefix in exercise_of_prefix:
            assert sum(n.startswith(prefix) for n, _ in wrong) >= 8, prefix
            assert sum(n.startswith(prefix) for n, _ in right) >= 3, prefix

    return (wrong_answer_gets_not_yet, right_answer_passes,
            every_step_has_eight_wrong_and_three_right_answers)
