"""The read cache: encoded answers of the hottest public reads (trending, content
detail, creator pages, categories, popular tags), in Redis or in the process, dropped
after the writes that change them commit (see `read_cache` and `tracking`)."""
