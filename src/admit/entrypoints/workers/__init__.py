"""Long-running workers: the outbox's delivery loop."""
