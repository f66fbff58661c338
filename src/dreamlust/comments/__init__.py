"""Comments on content: one level of replies, tombstones for deleted threads, one pin."""
