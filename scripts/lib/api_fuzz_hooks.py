"""schemathesis hooks of scripts/api-fuzz: rules that JSON Schema cannot state.

A drop's `closes_at` must be after its `opens_at` and in the future, and its `product_id` must name
an existing product. The OpenAPI document says so in words; a generated drop that the document
calls valid would break them almost always. So before a *positive* case of POST /v1/drops is sent,
its product becomes the run's product (FUZZ_PRODUCT_ID) and its `closes_at` a day after the later of
`opens_at` and now. A positive entry holds one ticket (how many a raffle takes is the drop's own max_tickets).
Negative cases go out as generated: the server must refuse them either way.
"""

import os
from datetime import datetime, timedelta, timezone

import schemathesis


def _parse(text):
    # RFC 3339 as the server reads it: T and Z in either case, a leap second allowed.
    text = text.upper().replace(":60", ":59")
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else None


@schemathesis.hook
def before_call(ctx, case, kwargs):
    if case.meta is None or not case.meta.generation.mode.is_positive or not isinstance(case.body, dict):
        return
    operation, body = case.operation, case.body
    if operation.method.upper() != "POST":
        return
    if operation.path == "/v1/drops":
        positive_drop(body)
    elif operation.path == "/v1/drops/{id}/entries" and isinstance(body.get("tickets"), (int, float)):
        body["tickets"] = 1


def positive_drop(body):
    if isinstance(body.get("product_id"), (int, float)):
        body["product_id"] = int(os.environ["FUZZ_PRODUCT_ID"])
    if isinstance(body.get("closes_at"), str) and isinstance(body.get("opens_at"), str):
        opens_at = _parse(body["opens_at"])
        if opens_at is None:
            return
        now = datetime.now(timezone.utc)
        if opens_at.year >= 9999:
            body["opens_at"] = now.isoformat()
            opens_at = now
        body["closes_at"] = (max(opens_at, now) + timedelta(days=1)).isoformat()

