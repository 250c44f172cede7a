"""Membership services: accounts, points, tiers, coupons, favourites, privacy."""
