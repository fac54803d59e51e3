"""The administrators' REST API: organizations and workspaces, the directory, invitations, imports
and jobs, the outbox, identity providers."""
