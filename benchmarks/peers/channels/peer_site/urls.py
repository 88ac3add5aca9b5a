from django.urls import path

from radius import views

urlpatterns = [
    path("api/v1/radius/batch/<uuid:batch_id>/status", views.batch_status),
    path("healthz", views.healthz),
]
