"""What administrators do: the directory, invitations, imports, jobs, settings, audit."""
