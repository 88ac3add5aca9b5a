import uuid

from django.db import models

from openwisp_users.models import Organization


class RadiusBatch(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    created = models.DateTimeField(auto_now_add=True)
    modified = models.DateTimeField(auto_now=True)
    name = models.CharField(max_length=128)
    strategy = models.CharField(max_length=16, default="prefix")
    status = models.CharField(max_length=16, default="pending")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)

    class Meta:
        db_table = "radbatch"
