"""The batch-status consumer of the original design, with the semantics
batchcast implements, so the two are measured doing the same work:

- only an authenticated, active staff user; a superuser may watch any
  existing batch, other staff only batches of active organizations they
  administer; anything else is closed before accept (Daphne answers 403);
- the consumer joins the group "radius_batch_<id>", and on a terminal
  status sends {"status": ...} once and closes with 1000;
- a batch that is already terminal is answered right after accept.
"""
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from radius.models import TERMINAL_STATUSES, RadiusBatch


def group_name(batch_id):
    return f"radius_batch_{batch_id}"


def watchable_batch_status(user, batch_id):
    """The batch's status if `user` may watch it, else None."""
    batches = RadiusBatch.objects.filter(pk=batch_id)
    if not user.is_superuser:
        batches = batches.filter(
            organization__is_active=True,
            organization__organizationuser__user=user,
            organization__organizationuser__is_admin=True,
        )
    return batches.values_list("status", flat=True).first()


def stored_status(batch_id):
    return (
        RadiusBatch.objects.filter(pk=batch_id)
        .values_list("status", flat=True)
        .first()
    )


class BatchStatusConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        self.delivered = False
        self.joined = None
        user = self.scope["user"]
        batch_id = self.scope["url_route"]["kwargs"]["batch_id"]
        if not (user.is_authenticated and user.is_active and user.is_staff):
            await self.close()
            return
        allowed = await database_sync_to_async(watchable_batch_status)(
            user, batch_id
        )
        if allowed is None:
            await self.close()
            return

        self.joined = group_name(batch_id)
        await self.channel_layer.group_add(self.joined, self.channel_name)
        await self.accept()
        # Read the status again now that the group is joined: a publish that
        # committed between the check above and the join sent its group
        # message before this consumer was a member.
        status = await database_sync_to_async(stored_status)(batch_id)
        if status in TERMINAL_STATUSES:
            await self.deliver(status)

    async def batch_status(self, event):
        if event.get("status") in TERMINAL_STATUSES:
            await self.deliver(event["status"])

    async def deliver(self, status):
        if self.delivered:
            return
        self.delivered = True
        await self.send_json({"status": status})
        await self.close(code=1000)

    async def receive_json(self, content, **kwargs):
        # Clients have nothing to say; their messages are dropped.
        pass

    async def disconnect(self, code):
        if self.joined:
            await self.channel_layer.group_discard(
                self.joined, self.channel_name
            )
