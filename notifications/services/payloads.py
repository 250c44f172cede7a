"""The JSON that outside systems receive for each event: plain values, money as strings, no e-mails.

Order events carry the shipping address (the warehouse ships to it); members are named by id only.
"""


def _money(value) -> str:
    return str(value)


def order_data(order) -> dict:
    shipments = getattr(order, "shipments", None)
    return {
        "order": {
            "number": order.number,
            "status": order.status,
            "member": order.user_id,
            "currency": "CNY",
            "subtotal": _money(order.subtotal),
            "shipping_fee": _money(order.shipping_fee),
            "coupon_discount": _money(order.coupon_discount),
            "points_discount": _money(order.points_discount),
            "points_used": order.points_used,
            "total": _money(order.total),
            "created_at": order.created_at,
            "paid_at": order.paid_at,
            "shipped_at": order.shipped_at,
            "shipping": {
                "method": order.shipping_method,
                "recipient_name": order.recipient_name,
                "phone": order.phone,
                "province": order.province,
                "city": order.city,
                "district": order.district,
                "address_line": order.address_line,
                "postcode": order.postcode,
            },
            "lines": [
                {
                    "id": line.pk,
                    "sku": line.sku,
                    "product_name": line.product_name,
                    "quantity": line.quantity,
                    "unit_price": _money(line.unit_price),
                    "line_total": _money(line.line_total),
                }
                for line in order.lines.all()
            ],
            "shipments": [
                {"carrier": s.carrier, "tracking_number": s.tracking_number, "created_at": s.created_at}
                for s in (shipments.all() if shipments is not None else [])
            ],
        }
    }


def refund_data(order, refund, lines, whole_order) -> dict:
    return {
        "order": {"number": order.number, "status": order.status, "member": order.user_id},
        "refund": {
            "reference": refund.reference,
            "amount": _money(refund.amount),
            "status": refund.status,
            "whole_order": bool(whole_order),
            "after_sale": getattr(refund.after_sale, "number", None),
            "lines": [
                {"id": line.pk, "sku": line.sku, "quantity": quantity, "amount": _money(amount)}
                for line, quantity, amount in lines
            ],
        },
    }


def after_sale_data(after_sale) -> dict:
    return {
        "return": {
            "number": after_sale.number,
            "order": after_sale.order.number,
            "member": after_sale.user_id,
            "kind": after_sale.kind,
            "status": after_sale.status,
            "reason": after_sale.reason,
            "staff_note": after_sale.staff_note,
            "created_at": after_sale.created_at,
            "decided_at": after_sale.decided_at,
            "lines": [
                {"id": row.order_line_id, "sku": row.order_line.sku, "quantity": row.quantity}
                for row in after_sale.lines.select_related("order_line")
            ],
        }
    }


def points_entry_data(entry) -> dict:
    return {
        "points": {
            "entry": entry.pk,
            "member": entry.user_id,
            "reason": entry.reason,
            "available_delta": entry.available_delta,
            "pending_delta": entry.pending_delta,
            "available_after": entry.available_after,
            "pending_after": entry.pending_after,
            "order": getattr(entry.order, "number", None) if entry.order_id else None,
            "created_at": entry.created_at,
        }
    }
