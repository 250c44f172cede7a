"""What operators see: the request id carried into every log line, and the JSON log format."""

import contextvars
import logging
import re

from pythonjsonlogger.json import JsonFormatter

request_id_var = contextvars.ContextVar("request_id", default="-")

# An id sent by our proxy (nginx's $request_id) or a client is kept only when it is short and plain,
# so it cannot inject text into the logs.
REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._-]{8,64}", re.ASCII)


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record (the current request's, or "-" outside a request)."""

    def filter(self, record):
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        return True


class ShopJsonFormatter(JsonFormatter):
    """One JSON object a line: time (ISO 8601, UTC), level, logger, message, request id and any `extra`."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        kwargs.setdefault("timestamp", "time")
        super().__init__("%(levelname)s %(name)s %(message)s %(request_id)s", *args, **kwargs)
