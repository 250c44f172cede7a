"""The membership REST API: app tokens, profile, addresses, points, tier, coupons, favourites, privacy."""
