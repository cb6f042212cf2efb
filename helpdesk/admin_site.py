"""The Django admin, for superusers only: everyone else runs the help desk from the
settings area (/settings/), whatever their is_staff flag says."""

from __future__ import annotations

from django.contrib.admin import AdminSite
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest


class SuperuserAdminSite(AdminSite):
    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and user.is_superuser)


class SuperuserAdminConfig(AdminConfig):
    default_site = "helpdesk.admin_site.SuperuserAdminSite"
