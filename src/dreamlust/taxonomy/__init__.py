"""Categories (curated by admins) and tags (free-form, counted)."""
