"""Forgot password: a reset link, or a first password for someone never claimed."""
