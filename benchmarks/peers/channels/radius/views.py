"""The publish API, on the same path and with the same answers as
batchcast's: POST {"status": ...} with a bearer token stores the status
(committed before the answer) and, for a terminal one, sends it to the
batch's group."""
import hmac
import json
import uuid

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from radius.consumers import group_name
from radius.models import STATUSES, TERMINAL_STATUSES, RadiusBatch

MAX_BODY_BYTES = 4096


def error(status, message):
    return JsonResponse({"error": message}, status=status)


def token_matches(request):
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    expected = settings.PUBLISH_TOKEN
    return (
        scheme.lower() == "bearer"
        and bool(expected)
        and hmac.compare_digest(token.strip().encode(), expected.encode())
    )


def record(batch):
    return {
        "batch": str(batch.id),
        "status": batch.status,
        "updated_at": batch.updated_at.isoformat(timespec="milliseconds"),
    }


def parse_body(request):
    """(status, organization id or None), or an error response."""
    try:
        body = json.loads(request.body)
    except ValueError:
        return error(400, "body is not JSON")
    if not isinstance(body, dict) or body.get("status") not in STATUSES:
        return error(400, "unknown status")
    organization = body.get("organization")
    if organization is not None:
        try:
            organization = uuid.UUID(str(organization))
        except ValueError:
            return error(400, "organization is not a uuid")
    return body["status"], organization


def store(batch_id, status, organization):
    """Saves the status; creates the batch when it is unknown and an
    organization is named. None when the batch is unknown."""
    with transaction.atomic():
        batch = RadiusBatch.objects.filter(pk=batch_id).first()
        if batch is None:
            if organization is None:
                return None
            batch = RadiusBatch(id=batch_id, organization_id=organization)
        batch.status = status
        batch.save()
    return batch


@csrf_exempt
def batch_status(request, batch_id):
    if not token_matches(request):
        return error(401, "missing or wrong token")
    if request.method == "GET":
        batch = RadiusBatch.objects.filter(pk=batch_id).first()
        return JsonResponse(record(batch)) if batch else error(404, "unknown")
    if request.method != "POST":
        return error(405, "use POST or GET")
    if len(request.body) > MAX_BODY_BYTES:
        return error(413, "body too large")

    parsed = parse_body(request)
    if isinstance(parsed, JsonResponse):
        return parsed
    status, organization = parsed
    try:
        batch = store(batch_id, status, organization)
    except IntegrityError:
        return error(400, "unknown organization")
    if batch is None:
        return error(400, "unknown batch and no organization")
    if status in TERMINAL_STATUSES:
        async_to_sync(get_channel_layer().group_send)(
            group_name(batch_id), {"type": "batch.status", "status": status}
        )
    return JsonResponse(record(batch))


def healthz(request):
    return JsonResponse({"ok": True})
