"""The message centre and message preferences in the REST API."""
