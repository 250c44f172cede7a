"""Membership: accounts, profiles, addresses, points, tiers, coupons, favourites and privacy."""
