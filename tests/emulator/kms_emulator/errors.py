"""Error types the request handlers raise; the server turns them into HTTP responses."""


class ApiError(Exception):
    """An error answered to the client.

    ``shape`` selects the body layout of the component that would answer on the real cloud:
    ``kms`` -> ``{"error": {"error_code", "error_msg"}}`` (KMS service),
    ``gateway`` -> ``{"error_code", "error_msg", "request_id"}`` (API gateway),
    ``iam`` -> ``{"error": {"code", "title", "message"}}`` (Keystone-style IAM).
    """

    def __init__(self, status, code, message, shape="kms", headers=None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.shape = shape
        self.headers = headers or {}

    def body(self, request_id):
        if self.shape == "gateway":
            return {"error_code": self.code, "error_msg": self.message, "request_id": request_id}
        if self.shape == "iam":
            return {"error": {"code": self.status, "title": _IAM_TITLES.get(self.status, "Error"),
                              "message": self.message, "error_code": self.code}}
        return {"error": {"error_code": self.code, "error_msg": self.message}}


_IAM_TITLES = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
               405: "Method Not Allowed"}


def kms_error(code, message, status=400):
    return ApiError(status, code, message, "kms")


def gateway_error(status, code, message, headers=None):
    return ApiError(status, code, message, "gateway", headers)


def iam_error(status, code, message):
    return ApiError(status, code, message, "iam")
