"""Test-only calls under /__emulator/: no cloud auth, never delayed or failed by fault injection."""

from .errors import kms_error
from .messages import Response


def _body(request):
    return request.json_object(lambda message: kms_error("KMS.0202", message))


def health(emulator, request):
    return Response(200, {"status": "ok"})


def stats(emulator, request):
    return Response(200, emulator.stats.snapshot())


def reset_stats(emulator, request):
    emulator.stats.reset()
    return Response(200, emulator.stats.snapshot())


def _clock_view(emulator):
    return {"now": emulator.clock.now(), "offset_seconds": emulator.clock.offset}


def clock(emulator, request):
    if request.method == "POST":
        seconds = _body(request).get("advance_seconds")
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
            raise kms_error("KMS.0308", "advance_seconds must be a non-negative number")
        emulator.clock.advance(seconds)
    return Response(200, _clock_view(emulator))


def faults(emulator, request):
    if request.method == "POST":
        try:
            emulator.faults.update(_body(request))
        except ValueError as exc:
            raise kms_error("KMS.0308", str(exc))
    return Response(200, emulator.faults.settings())


ROUTES = {
    "/__emulator/health": (("GET",), health),
    "/__emulator/stats": (("GET",), stats),
    "/__emulator/stats/reset": (("POST",), reset_stats),
    "/__emulator/clock": (("GET", "POST"), clock),
    "/__emulator/faults": (("GET", "POST"), faults),
}
