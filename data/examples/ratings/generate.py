"""Regenerate the course-ratings export (run once; the file is committed).

The synthetic education case (seed 11) reduced to what a learning platform's review export
holds: who rated which course, how many stars, and when (ISO 8601 with the platform's UTC offset,
which moves with summer time). No learners file, no course catalogue.

    .venv/bin/python data/examples/ratings/generate.py
"""

from pathlib import Path

from marketing.datasets import generate

HERE = Path(__file__).resolve().parent


def main() -> None:
    enrolments = generate("education", size="small", seed=11).tables["enrolments"]
    when = enrolments["enrolled_at"].dt.tz_localize("UTC").dt.tz_convert("Europe/Lisbon")
    ratings = enrolments.assign(
        user=enrolments["learner_id"] + 5000, course="C" + enrolments["course_id"].astype(str).str.zfill(3),
        stars=enrolments["rating"], rated_at=when.dt.strftime("%Y-%m-%dT%H:%M:%S%z"),
    )[["user", "course", "stars", "rated_at"]]
    ratings.to_csv(HERE / "ratings.csv", index=False)


if __name__ == "__main__":
    main()
