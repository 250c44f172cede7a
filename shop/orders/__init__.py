"""The member's order pages after payment (shipments, receipt, after-sales); storefront web code."""
