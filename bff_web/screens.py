"""Shaping the services' answers into the web client's screens."""

from __future__ import annotations

from collections import defaultdict

from bff_web.schemas import Dashboard, Money, OrderPage, Profile, RecentOrder


def build_dashboard(profile: Profile, recent: OrderPage) -> Dashboard:
    totals: dict[str, int] = defaultdict(int)
    for order in recent.items:
        if order.status != "cancelled":
            totals[order.currency] += order.total_minor
    return Dashboard(
        profile=profile,
        recent_orders=[
            RecentOrder(
                id=order.id,
                status=order.status,
                created_at=order.created_at,
                item_count=sum(item.quantity for item in order.items),
                total=Money(order.currency, order.total_minor),
            )
            for order in recent.items
        ],
        recent_total=[Money(currency, amount) for currency, amount in sorted(totals.items())],
    )
