"""The storefront's REST API: catalogue, cart, orders, sandbox payment and behaviour events."""
