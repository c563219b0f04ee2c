"""Regenerate the till export (run once; the file is committed).

The shop example's transactions (``../shop/transactions.csv``) as a point-of-sale system writes
them: no header row, fields separated by runs of spaces, times as Unix seconds, prices with a
decimal comma, ``?`` where the till lost the quantity, and every 500th line printed twice. The
case file (``case.yml``) declares each of these instead of fixing them in pandas.

    .venv/bin/python data/examples/till/generate.py
"""

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent


def main() -> None:
    tx = pd.read_csv(HERE.parent / "shop" / "transactions.csv").dropna(subset=["CustomerID"])
    tx = tx.loc[tx["Quantity"] > 0]
    when = pd.to_datetime(tx["InvoiceDate"], format="%d/%m/%Y %H:%M")
    lines = pd.DataFrame({
        "till": tx["InvoiceNo"].astype(str),
        "card": tx["CustomerID"].astype("int64"),
        "epoch": (when - pd.Timestamp("1970-01-01")) // pd.Timedelta(seconds=1),
        "sku": tx["StockCode"],
        "qty": tx["Quantity"].astype(str),
        "price": (tx["Revenue"] / tx["Quantity"]).round(2).map(lambda v: f"{v:.2f}".replace(".", ",")),
    })
    rng = np.random.default_rng(3)
    lines.loc[rng.choice(lines.index, 12, replace=False), "qty"] = "?"
    lines = pd.concat([lines, lines.iloc[::500]]).sort_index(kind="stable")
    text = lines.to_string(header=False, index=False)
    (HERE / "sales.txt").write_text("\n".join(line.strip() for line in text.splitlines()) + "\n")


if __name__ == "__main__":
    main()
