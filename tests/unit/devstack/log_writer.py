"""A stand-in child process: writes the lines a stack process writes, then exits."""

import json
import sys

LINES = [
    {
        "time": "2026-12-01T10:05:21.123Z",
        "level": "INFO",
        "service": "edge",
        "logger": "frontdoor.access",
        "message": "GET /api/web/dashboard 200",
        "event": "request",
        "method": "GET",
        "route": "web",
        "path": "/api/web/dashboard",
        "status": 200,
        "duration_ms": 12.34,
        "request_id": "rid-1",
        "trace_id": "ab" * 16,
    },
    {
        "time": "2026-12-01T10:05:22.000Z",
        "level": "ERROR",
        "service": "edge",
        "logger": "frontdoor.edge",
        "message": "upstream failed",
        "exception": "Traceback (most recent call last):\n  ValueError: bad",
    },
]

if __name__ == "__main__":
    for line in LINES:
        print(json.dumps(line), file=sys.stderr)
    print("a line that is not JSON", file=sys.stderr)
