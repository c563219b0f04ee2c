"""Regenerate the example shop export (run once; the CSV files are committed).

The example is the synthetic e-commerce case (seed 7) cut to 300 customers and reshaped the way
a shop system exports it: its own column names, day-first dates, one flat transactions file,
and a few rows a careful analyst must clean (missing customer ids, returns with negative
quantities, postage lines whose code is not a product).

    .venv/bin/python data/examples/shop/generate.py
"""

from pathlib import Path

import numpy as np
import pandas as pd

from marketing.datasets import generate

HERE = Path(__file__).resolve().parent
N_CUSTOMERS = 300
POSTAGE = 99999  # shop systems book postage as a line with its own stock code


def main() -> None:
    synthetic = generate("ecommerce", size="small", seed=7).tables
    rng = np.random.default_rng(7)
    chosen = np.sort(rng.choice(synthetic["customers"]["customer_id"].to_numpy(), N_CUSTOMERS, replace=False))

    c = synthetic["customers"].loc[lambda d: d["customer_id"].isin(chosen)]
    customers = pd.DataFrame(
        {
            "CustomerID": c["customer_id"] + 12000,
            "Email": "customer" + (c["customer_id"] + 12000).astype(str) + "@example.invalid",
            "Created": c["signup_date"].dt.strftime("%d/%m/%Y"),
            "Age": c["age"].round().astype(int),
            "Region": c["region"].astype(str).str.capitalize(),
            "Channel": c["channel"].astype(str).str.capitalize(),
            "Revenue_Next90d": c["spend_next_90d"].round(2),
            "Churned_Next90d": c["churned_next_90d"],
        }
    )

    p = synthetic["products"]
    products = pd.DataFrame(
        {
            "StockCode": p["product_id"] + 20000,
            "Description": p["name"],
            "Category": p["category"].astype(str),
            "UnitPrice": p["price"],
        }
    )

    orders = synthetic["orders"].loc[lambda d: d["customer_id"].isin(chosen)]
    lines = synthetic["order_lines"].merge(orders, on="order_id", how="inner").sort_values(
        ["order_date", "order_id", "product_id"], kind="stable"
    )
    transactions = pd.DataFrame(
        {
            "InvoiceNo": lines["order_id"] + 500000,
            "InvoiceDate": lines["order_date"].dt.strftime("%d/%m/%Y %H:%M"),
            "StockCode": lines["product_id"] + 20000,
            "Quantity": lines["quantity"].astype(int),
            "Revenue": lines["line_amount"].round(2),
            "CustomerID": (lines["customer_id"] + 12000).astype("Int64"),
        }
    )

    # guest checkouts: orders without a customer id
    guests = transactions.sample(6, random_state=7).assign(
        CustomerID=pd.NA, InvoiceNo=lambda d: d["InvoiceNo"] + 900000
    )
    # postage booked as its own line on a few invoices
    postage = transactions.drop_duplicates("InvoiceNo").sample(4, random_state=8).assign(
        StockCode=POSTAGE, Quantity=1, Revenue=4.95
    )
    transactions = pd.concat([transactions, guests, postage], ignore_index=True)

    customers.to_csv(HERE / "customers.csv", index=False)
    products.to_csv(HERE / "products.csv", index=False)
    transactions.to_csv(HERE / "transactions.csv", index=False)
    returns = int((transactions["Quantity"] < 0).sum())
    print(f"{len(customers)} customers, {len(products)} products, {len(transactions)} lines ({returns} returns)")


if __name__ == "__main__":
    main()
