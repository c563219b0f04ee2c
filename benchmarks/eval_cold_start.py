"""The cold-start table of one case study: new, light and warm customers and new items.

Time split (the last ``--test-days`` days are the test window, as the recommendation report does),
the report's own steps: compare_models chooses the collaborative model on a validation split, then
compare_cold_start fits the content model (its bonuses learned on the last 60 training days) and the
hybrid (weight chosen on a training hold-out) with the case file's content columns and scores them
beside the baselines (global, group and category popularity). Prints the table (NDCG@10 and recall@10 per
group) and the gain on new customers; --write stores benchmarks/results/cold_start_<case>_<source>_<days>d.

Online Retail II (the public ecommerce source) keeps only customers first seen before its 90-day
label window, so a 60-day test window has no new customers: use --test-days 120 for them.

Usage: MARKETING_DATA_MIRROR=/work/shared/datasets python benchmarks/eval_cold_start.py --case ecommerce --source public
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, markdown_table, write_results  # noqa: E402


def evaluate(case: str, source: str, test_days: int, seed: int = 42) -> dict:
    """The report's own steps (compare_models, then compare_cold_start) on one case and window."""
    from marketing.datasets import load_case_data
    from marketing.recommend import compare_cold_start, compare_models, make_split

    data = load_case_data(case, seed=seed, data_source=source)
    split = make_split(data.events, "time", test_days=test_days)
    started = time.perf_counter()
    result = compare_models(split, k=10, items=data.items, random_state=seed)
    cold = compare_cold_start(result, split, data, k=10, random_state=seed)
    content = cold.hybrid.content_
    return {
        "case": case, "source": source, "test_days": test_days, "chosen_model": result.best_model,
        "customer_groups": list(cold.customer_columns), "item_columns": list(cold.item_columns),
        "fit_s": round(time.perf_counter() - started, 1),
        "newness": content.newness_, "popularity_bonus": content.popularity_,
        "newness_validation": {f"newness {n}, popularity {p}": v for (n, p), v in (content.newness_validation_ or {}).items()},
        "hybrid_weight": cold.hybrid.weight_, "hybrid_validation": cold.hybrid.validation_,
        "gain_new_customers": cold.gain("new customers"),
        "table": cold.table.round(4).to_dict(orient="records"),
    }


def markdown(result: dict) -> str:
    rows = result["table"]
    lines = [
        f"# Cold start: {result['case']} ({result['source']} data), last {result['test_days']} days as test",
        "",
        f"Chosen collaborative model: {result['chosen_model']}. Customer columns: {result['customer_groups']}; "
        f"item features: {result['item_columns']}. Content newness "
        f"bonus {result['newness']}, popularity bonus {result['popularity_bonus']} (validation NDCG@10 per pair: "
        f"{result['newness_validation']}); hybrid weight "
        f"{result['hybrid_weight']} (validation NDCG@10 per weight: {result['hybrid_validation']}).",
        "",
        markdown_table(rows, ["group", "model", "ndcg", "recall", "hit_rate", "n_customers", "n_pairs"]),
        "",
        f"Gain on new customers: {json.dumps(result['gain_new_customers'])}.",
    ]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", default="ecommerce")
    parser.add_argument("--source", default="synthetic")
    parser.add_argument("--test-days", type=int, default=60)
    parser.add_argument("--write", action="store_true", help="write benchmarks/results/cold_start_<case>_<source>_<days>d.{json,md}")
    args = parser.parse_args(argv)
    result = evaluate(args.case, args.source, args.test_days)
    result["machine"] = machine()
    print(markdown(result))
    if args.write:
        write_results(f"cold_start_{args.case}_{args.source}_{args.test_days}d", result, markdown(result))
    return result


if __name__ == "__main__":
    main()
