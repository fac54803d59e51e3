"""Signing in with an identifier and password; sessions and API tokens."""
