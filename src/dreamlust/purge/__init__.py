"""`dreamlust purge`: hard-delete what was soft-deleted longer ago than the retention."""
