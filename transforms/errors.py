"""The error tree every pixcast failure belongs to; each error knows its HTTP status.

PixcastError
 ├── BadRequest (400)            malformed URL, unknown or out-of-range parameter
 ├── Unauthorized (401)          missing or wrong signature
 ├── Forbidden (403)             delivery type or source not allowed
 ├── NotFound (404)              no such original or named transformation target
 ├── PayloadTooLarge (413)       source too large in bytes or pixels
 ├── UnsupportedMediaType (415)  the original is not an image pixcast can read
 ├── Unprocessable (422)         the image decoded but the request cannot be done on it
 ├── BadGateway (502)            a remote original's server failed, refused or misbehaved
 ├── ServiceUnavailable (503)    overloaded: retry later
 └── GatewayTimeout (504)        the request's deadline passed

The message is public: it names the parameter, what was expected and what came.
"""


class PixcastError(Exception):
    """Base of all errors pixcast reports to its users."""

    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(PixcastError):
    status = 400


class Unauthorized(PixcastError):
    status = 401


class Forbidden(PixcastError):
    status = 403


class NotFound(PixcastError):
    status = 404


class PayloadTooLarge(PixcastError):
    status = 413


class UnsupportedMediaType(PixcastError):
    status = 415


class Unprocessable(PixcastError):
    status = 422


class BadGateway(PixcastError):
    status = 502


class ServiceUnavailable(PixcastError):
    status = 503


class GatewayTimeout(PixcastError):
    status = 504
