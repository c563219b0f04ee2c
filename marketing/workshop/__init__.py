"""The workshop's exercise checks: one module per learner notebook in ``workshop/``.

A learner notebook imports its checks as ``check`` and runs ``check.exercise_1(answer)`` after
each exercise; the result's repr says *right*, or what is wrong and a hint. Each module fixes the
small synthetic data its notebook uses (``CASE``, ``SEED``, ``DATA_SIZE``), and the checks
compute the right answer from that data with the package, so a change in the package that moves
an answer moves the check with it.

>>> from marketing.workshop import regression as check
>>> check.exercise_2(0.5).passed
False
"""

from marketing.workshop.result import CheckResult, right, wrong

__all__ = ["CheckResult", "right", "wrong"]
