"""The agents' back-office at /admin: FAQ editing, questions log, broadcasts, dashboard."""

from channels.web.admin.app import create_admin_app
from channels.web.admin.services import AdminServices

__all__ = ["AdminServices", "create_admin_app"]
