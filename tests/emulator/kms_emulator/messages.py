"""Request and response values passed between the HTTP layer and the handlers."""

import dataclasses
import json


@dataclasses.dataclass
class Request:
    method: str
    raw_path: str          # as received, still percent-encoded
    raw_query: str
    headers: dict          # lower-case name -> value
    body: bytes
    request_id: str

    def json_object(self, error):
        """The body parsed as a JSON object; ``error(message)`` builds the ApiError to raise.
        An empty body counts as ``{}``."""
        if not self.body.strip():
            return {}
        try:
            value = json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise error("the request body is not valid JSON")
        if not isinstance(value, dict):
            raise error("the request body must be a JSON object")
        return value


@dataclasses.dataclass
class Response:
    status: int
    body: object = None    # JSON-serialisable value; None for an empty body
    headers: dict = dataclasses.field(default_factory=dict)
