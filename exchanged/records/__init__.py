"""Record models, one module per entity; ``ENTITIES`` is the registry by name."""

from exchanged.records.base import Entity, Record
from exchanged.records.customer import Address, Customer
from exchanged.records.order_status import OrderStatus
from exchanged.records.price import Price
from exchanged.records.product import Product
from exchanged.records.stock import Stock

ENTITIES: dict[str, Entity] = {
    model.entity: Entity(model.entity, model) for model in (Product, Price, Stock, Customer, OrderStatus)
}

__all__ = ["ENTITIES", "Address", "Customer", "Entity", "Price", "Product", "Record", "Stock"]
