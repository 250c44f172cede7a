"""The recommendations REST API: for me, similar to a product, bought together, for my cart."""
