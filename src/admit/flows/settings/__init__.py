"""What a signed-in person changes about their own account."""
