"""Reports, moderation decisions and the audit log."""
