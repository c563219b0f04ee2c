"""Regenerate the student records (run once; the file is committed).

The synthetic education case's learners (seed 11, 600 of them) as a school office exports its
records: one row per student and no event log, no id column, semicolons between fields, decimal
commas, the study mode coded 1 (full-time) / 2 (part-time), and ``999`` where the age is unknown.
The outcome is the final grade (0-100); passing is a grade of 50 or more.

    .venv/bin/python data/examples/students/generate.py
"""

from pathlib import Path

import numpy as np
import pandas as pd

from marketing.datasets import generate

HERE = Path(__file__).resolve().parent


def main() -> None:
    learners = generate("education", size="small", seed=11).tables["learners"].head(600)
    rng = np.random.default_rng(11)
    age = learners["age"].round(1).map(lambda v: f"{v:.1f}".replace(".", ","))
    age[rng.random(len(age)) < 0.03] = "999"
    records = pd.DataFrame({
        "age": age,
        "prior": learners["prior_qualification"].astype(str),
        "mode": learners["study_mode"].astype(str).map({"full-time": 1, "part-time": 2}),
        "midterm": learners["midterm_grade"].round(1).map(lambda v: f"{v:.1f}".replace(".", ",")),
        "final": learners["final_grade"].round(1).map(lambda v: f"{v:.1f}".replace(".", ",")),
    })
    records.to_csv(HERE / "students.csv", sep=";", index=False)


if __name__ == "__main__":
    main()
