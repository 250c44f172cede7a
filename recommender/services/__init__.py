"""Recommender services: training runs, scoring, near-real-time refresh, tracking, imports."""
