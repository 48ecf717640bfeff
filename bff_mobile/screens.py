"""Shaping the services' answers into the phone's screens."""

from __future__ import annotations

from bff_mobile.schemas import Order, OrderDetail, OrderLine, OrderPage, OrderRow, OrderRows


def rows(page: OrderPage) -> OrderRows:
    return OrderRows(
        items=[
            OrderRow(o.id, o.status, o.total_minor, o.currency, o.created_at) for o in page.items
        ],
        next_cursor=page.next_cursor,
    )


def detail(order: Order) -> OrderDetail:
    return OrderDetail(
        id=order.id,
        status=order.status,
        currency=order.currency,
        total_minor=order.total_minor,
        created_at=order.created_at,
        lines=[
            OrderLine(item.name, item.quantity, item.quantity * item.unit_price_minor)
            for item in order.items
        ],
    )
