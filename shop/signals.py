"""What happened in the shop: domain signals that members and recommender listen to (shop imports neither).

Sent inside the service's transaction (a receiver's writes commit or roll back with it, and a receiver
that raises refuses the change): order_placed, order_paid, order_shipped, order_received,
order_completed, order_cancelled, order_refunded, review_approved, review_rejected. Every order signal
carries `order`; review signals carry `review`; order_shipped also carries `shipment`.
After-sales (售后), inside the transaction too: return_requested and return_decided carry `after_sale`
(return_decided also `approved`); order_line_refunded carries `order`, `refund` (shop.models.Refund),
`lines` = [(order_line, quantity, amount), ...] (OrderLine.refunded_quantity already counts them) and
`whole_order` (True when nothing is left to refund; order_refunded follows it then).
Sent robustly (a receiver's failure is logged, never raised): behaviour_recorded, carrying `event`;
its receivers put slow work after the commit (transaction.on_commit).
"""

from django.dispatch import Signal

order_placed = Signal()
order_paid = Signal()
order_shipped = Signal()
order_received = Signal()
order_completed = Signal()
order_cancelled = Signal()
order_refunded = Signal()
return_requested = Signal()
return_decided = Signal()
order_line_refunded = Signal()
review_approved = Signal()
review_rejected = Signal()
behaviour_recorded = Signal()
