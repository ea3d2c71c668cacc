"""Record models, one module per entity. ``ENTITIES``: the entities published for the shop, by
name; ``MAPPABLE``: what a mapping can fill, the shop entities and ``order`` (order rows)."""

from exchanged.records.base import Entity, Record
from exchanged.records.customer import Address, Customer
from exchanged.records.order_rows import OrderRow
from exchanged.records.order_status import OrderStatus
from exchanged.records.price import Price
from exchanged.records.product import Product
from exchanged.records.stock import Stock

ENTITIES: dict[str, Entity] = {
    model.entity: Entity(model.entity, model) for model in (Product, Price, Stock, Customer, OrderStatus)
}
MAPPABLE: dict[str, Entity] = {**ENTITIES, OrderRow.entity: Entity(OrderRow.entity, OrderRow)}

__all__ = ["ENTITIES", "MAPPABLE", "Address", "Customer", "Entity", "Price", "Product", "Record", "Stock"]
