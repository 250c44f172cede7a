"""The storefront app: catalogue, search, cart, checkout, orders, payments, reviews and events."""
