"""Shaping the services' answers into the browser's screens."""

from __future__ import annotations

from bff_web.schemas import Money, Order, OrderPage, OrderSummary, RecentOrder


def summarise(order: Order) -> OrderSummary:
    return OrderSummary(
        id=order.id,
        status=order.status,
        created_at=order.created_at,
        currency=order.currency,
        total_minor=order.total_minor,
        item_count=sum(item.quantity for item in order.items),
    )


def summarise_page(page: OrderPage) -> list[OrderSummary]:
    return [summarise(order) for order in page.items]


def recent(page: OrderPage) -> list[RecentOrder]:
    return [
        RecentOrder(
            id=order.id,
            status=order.status,
            created_at=order.created_at,
            item_count=sum(item.quantity for item in order.items),
            total=Money(order.currency, order.total_minor),
            items=order.items,
        )
        for order in page.items
    ]
