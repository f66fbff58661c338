"""The admin web page at /admin: ADMIN accounts browse users, creators, content, reports,
the ledger and the audit log, and take decisions through the same services as the API."""

from dreamlust.admin_site.site import mount_admin_site

__all__ = ["mount_admin_site"]
