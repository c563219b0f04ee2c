"""The cold-start table of one case study: new, light and warm customers and new items.

Time split (the last ``--test-days`` days are the test window, as the recommendation report does),
every model fitted on the training events with the whole catalogue (so new items have a column):
the baselines (global popularity, group popularity over the customer columns, category
popularity), item-kNN, the content model (newness bonus learned on the last 60 training days) and
the hybrid (weight chosen on a training hold-out). Prints the table (NDCG@10 and recall@10 per
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
    from marketing.datasets import load_case_data
    from marketing.recommend import (
        ContentRecommender, HybridRecommender, ItemKNN, build_interactions, cold_start_gain, cold_start_table, make_split,
    )

    data = load_case_data(case, seed=seed, data_source=source)
    split = make_split(data.events, "time", test_days=test_days)
    items, customers = data.items, data.customers
    groups = [c for c in ("region", "channel", "country", "segment") if c in customers.columns]
    item_columns = [c for c in ("category", "price") if c in items.columns]
    X = build_interactions(split.train, items=items)
    started = time.perf_counter()
    content = ContentRecommender(item_columns=item_columns, customer_columns=groups)
    models = {
        "item-kNN": ItemKNN().fit(X),
        "content": _clone_fit(content, X, items, customers, split.train),
        "hybrid": HybridRecommender(ItemKNN(), content, random_state=seed).fit(
            X, items=items, customers=customers, events=split.train),
    }
    fit_s = time.perf_counter() - started
    table = cold_start_table(split, models, customers=customers, items=items, k=10, group_columns=groups)
    return {
        "case": case, "source": source, "test_days": test_days, "customer_groups": groups,
        "item_columns": item_columns, "fit_s": round(fit_s, 1),
        "newness": models["content"].newness_, "popularity_bonus": models["content"].popularity_,
        "newness_validation": {f"newness {n}, popularity {p}": v
                               for (n, p), v in (models["content"].newness_validation_ or {}).items()},
        "hybrid_weight": models["hybrid"].weight_, "hybrid_validation": models["hybrid"].validation_,
        "gain_new_customers": cold_start_gain(table) if (table["group"] == "new customers").any() else None,
        "table": table.round(4).to_dict(orient="records"),
    }


def _clone_fit(model, X, items, customers, events):
    from marketing.recommend.content import _clone

    return _clone(model).fit(X, items=items, customers=customers, events=events)


def markdown(result: dict) -> str:
    rows = result["table"]
    lines = [
        f"# Cold start: {result['case']} ({result['source']} data), last {result['test_days']} days as test",
        "",
        f"Customer groups: {result['customer_groups']}; item features: {result['item_columns']}. Content newness "
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
