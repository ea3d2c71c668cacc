"""The price engine ("hybrid pricing"): a customer's net price computed on the shop side exactly as
the ERP would, from the published ``price`` and ``customer`` state, so the shop never waits for
the ERP (docs/pricing.md).

A lookup is (customer, sku, quantity, moment[, currency]). Only ``price`` rows with
``price_type = "net"`` are read: orders are checked against net prices.

1. **Currency.** A customer on a price list whose net rows are in several currencies gets no
   price at all (``mixed-currency``, naming the list: one currency per price list, and the engine
   does not guess which one the ERP bills). Otherwise: the customer's ``currency``; a different
   requested currency is ``currency-mismatch``. Without one: the requested currency; else the
   single currency of the customer's price list; else the single currency of all net rows (a
   one-currency shop needs no flag); else ``no-currency``. Rows in other currencies are ignored.
2. **Applicable rows.** A row applies when every customer key it sets (``customer_id``,
   ``customer_group``, ``price_list``) is the customer's — as every key field of an ERP condition
   record must match —, it is in the lookup's currency, it is valid on the lookup's day
   (``valid_from`` ≤ day ≤ ``valid_to``, inclusive, a null end open) and its quantity break is
   reached (``min_quantity`` ≤ quantity).
3. **Precedence.** A row's level is the most specific key it sets: customer-specific
   (``customer_id``) > customer group > price list > list price (no key). The most specific level
   with an applicable row wins. A level with rows for the sku of which none applies (expired, not
   yet valid, break not reached, other currency) falls through to the next level, as an ERP's
   condition search goes on to its next access when a record is not valid or its scale is not
   reached.
4. **Quantity break.** Within the winning level, the row with the highest ``min_quantity`` ≤
   quantity. A quantity below every break (e.g. 0.5 when the first break is 1) has no price.
5. **Ties** (rows agreeing on level and break, e.g. overlapping validity windows): the row setting
   more keys; then the later ``valid_from`` (a newer agreement supersedes; an open start is the
   oldest); then the lower amount; then ``price_list``, ``customer_group`` alphabetically.
6. **The day** is the moment (timezone-aware) converted to the book's zone, UTC unless given
   (``PriceBook.load(..., zone="Europe/Berlin")``, ``exchanged price --zone``): validity dates are
   whole days of the ERP, so the zone should be the ERP's.
7. **Unknown customer** (not in ``customer.parquet``): priced as an anonymous buyer, list prices
   only — its group, price list and currency are unknown, so no restricted row can be checked.
   **Unknown sku**, or no applicable row: ``NoPrice`` with reason ``no-price``, not an exception.

``PriceBook.quote`` applies these rules row by row (``rules.py``); ``PriceBook.price_list``
computes every sku's price for a customer with Arrow compute (``sheet.py``); they agree.
"""

from __future__ import annotations

from exchanged.pricing.book import PriceBook, pricing_date
from exchanged.pricing.results import (
    CURRENCY_MISMATCH,
    MIXED_CURRENCY,
    NO_CURRENCY,
    NO_PRICE,
    Level,
    Lookup,
    NoPrice,
    Quote,
)
from exchanged.pricing.sheet import SHEET_SCHEMA

__all__ = ["PriceBook", "Quote", "NoPrice", "Lookup", "Level", "pricing_date", "SHEET_SCHEMA",
           "NO_PRICE", "MIXED_CURRENCY", "NO_CURRENCY", "CURRENCY_MISMATCH"]
