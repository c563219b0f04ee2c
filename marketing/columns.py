"""Canonical column names, defined once; every function that reads a table accepts overrides."""

CUSTOMER = "customer_id"
ITEM = "item_id"
TIMESTAMP = "timestamp"
AMOUNT = "amount"
RATING = "rating"
ORDER = "order_id"
QUANTITY = "quantity"

#: The roles a case study maps onto its own column names.
ROLES = (CUSTOMER, ITEM, TIMESTAMP, AMOUNT, RATING, ORDER, QUANTITY)
