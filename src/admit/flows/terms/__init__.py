"""Terms of service: download and accept the workspace's newest version."""
