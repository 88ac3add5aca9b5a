"""The slice of openwisp-users and openwisp-radius the endpoint reads:
organizations, who administers them, and batches with their status. The
user is Django's own (it has is_active, is_staff and is_superuser)."""
import uuid

from django.conf import settings
from django.db import models

TERMINAL_STATUSES = ("completed", "failed")
STATUSES = ("pending", "processing") + TERMINAL_STATUSES


class Organization(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    name = models.CharField(max_length=100)
    is_active = models.BooleanField(default=True)


class OrganizationUser(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL,
                             on_delete=models.CASCADE)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    is_admin = models.BooleanField(default=False)


class RadiusBatch(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    name = models.CharField(max_length=128, blank=True)
    status = models.CharField(max_length=16, default="pending",
                              choices=[(s, s) for s in STATUSES])
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "radbatch"
