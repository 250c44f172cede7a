"""State changes of the storefront, one module per topic; each service runs in one transaction."""
