"""The one domain error type: a message a shopper can read and a stable code for the API."""


class DomainError(Exception):
    def __init__(self, message, code="invalid", field=None):
        super().__init__(str(message))
        self.message = message
        self.code = code
        self.field = field
