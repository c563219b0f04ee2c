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

# Output columns the analyses write (exports, labels, ranked lists), named once so that every
# engine's implementation and the exports agree.
SEGMENT = "segment"
SEGMENT_NAME = "segment_name"
ACTION = "action"
RFM_SEGMENT = "rfm_segment"
SCORE = "score"
RANK = "rank"
WEIGHT = "weight"
N_CUSTOMERS = "n_customers"
COLD_START = "cold_start"
SIGNUP = "signup_date"
LAUNCH = "launch_date"
