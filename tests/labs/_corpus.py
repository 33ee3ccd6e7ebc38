"""Shared harness of the answer corpora: registering answers, and running one through its check.

``wrong_labN.py`` register their answers with ``@wrong("lab", "exercise", "what is wrong")``;
the outsider files keep their own lists with :func:`registrar`. Every answer, whoever wrote
it, reaches its check through :func:`run_check`, which passes the same arguments as the
notebook, so a corpus cannot drift from the lab it tests.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

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
