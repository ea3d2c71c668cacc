"""Shop orders on their way to the ERP (issue 6): read (canonical JSON, or CSV by mapping), checked
against what is published and priced as the ERP would price them, written in the ERP's format.

* (``records/order_rows.py``: ``OrderRow``, the flat view a CSV order mapping fills, one row per line);
* ``canonical``: canonical order JSON (one order or an array) into ``Order`` models;
* ``assemble``: validated order rows into ``Order`` models, grouped by ``order_id``;
* ``published``: the published products and customers an order is checked against;
* ``checks``: the business checks (sku, unit, currency, customer, price);
* ``settings``: ``[orders]`` in the config file (the ERP's format and its options);
* ``send``: the ERP file per order in ``outbox/erp/``, written once.
"""
