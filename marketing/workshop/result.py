"""The result of an exercise check: right, or what is wrong and a hint."""

from __future__ import annotations

import functools
from dataclasses import dataclass


@dataclass(frozen=True)
class CheckResult:
    """What a check says about one answer.

    Parameters
    ----------
    exercise : str
        The exercise's name, as the notebook numbers it ("exercise 1").
    passed : bool
        Whether the answer is right.
    message : str
        Why it is right, or what is wrong with it.
    hint : str
        What to look at next (empty when the answer is right).

    Examples
    --------
    >>> right("exercise 1", "4 segments, as planted.")
    exercise 1: right. 4 segments, as planted.
    >>> wrong("exercise 1", "2 is too few.", "Look at the silhouette.")
    exercise 1: not yet. 2 is too few. Hint: Look at the silhouette.
    >>> bool(wrong("exercise 1", "no.", "yes."))
    False
    """

    exercise: str
    passed: bool
    message: str
    hint: str = ""

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        if self.passed:
            return f"{self.exercise}: right. {self.message}"
        return f"{self.exercise}: not yet. {self.message} Hint: {self.hint}"


def right(exercise: str, message: str) -> CheckResult:
    """A passed check (see :class:`CheckResult`)."""
    return CheckResult(exercise, True, message)


def wrong(exercise: str, message: str, hint: str) -> CheckResult:
    """A failed check with its hint (see :class:`CheckResult`)."""
    return CheckResult(exercise, False, message, hint)


def as_number(answer) -> float | None:
    """``answer`` as a float, or None when it is not a single real number (bools are not numbers)."""
    if isinstance(answer, bool):
        return None
    try:
        value = float(answer)
    except (TypeError, ValueError):
        return None
    return value if value == value else None  # NaN is no answer


def as_whole_number(answer) -> int | None:
    """``answer`` as an int when it is a whole number (4, 4.0, numpy.int64(4)), else None."""
    value = as_number(answer)
    return int(value) if value is not None and value.is_integer() else None


def exercise(name: str):
    """Decorate a check ``f(answer) -> CheckResult`` named ``name``: an unanswered ``...`` says so.

    >>> @exercise("exercise 9")
    ... def exercise_9(answer):
    ...     return right("exercise 9", "yes.") if answer == 9 else wrong("exercise 9", "no.", "nine.")
    >>> exercise_9(...)
    exercise 9: not yet. Not answered: answer is still `...`. Hint: Replace the ... with your answer and run the cell again.
    >>> exercise_9(9).passed
    True
    """

    def decorate(check):
        @functools.wraps(check)
        def wrapper(answer) -> CheckResult:
            if answer is Ellipsis:
                return wrong(name, "Not answered: answer is still `...`.",
                             "Replace the ... with your answer and run the cell again.")
            return check(answer)

        return wrapper

    return decorate
