"""Registry of the wrong-answer corpus: ``@wrong("exercise", "what is wrong")`` on an answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: (lab, exercise, what the answer gets wrong, the answer), in definition order.
ANSWERS: list[tuple[str, str, str, Any]] = []


def wrong(lab: str, exercise: str, mistake: str) -> Callable[[Any], Any]:
    """Register the decorated answer (a function, or a list of test functions) as wrong."""

    def register(answer: Any) -> Any:
        ANSWERS.append((lab, exercise, mistake, answer))
        return answer

    return register
