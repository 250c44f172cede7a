"""Demo data for the whole site: runs each app's seeding in order (it sits above every domain app)."""
