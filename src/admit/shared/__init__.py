"""What flows and administrators' use cases share: the context every use case receives,
access rules, the outbox's enqueueing, how invitations end, and server-side flow state."""
