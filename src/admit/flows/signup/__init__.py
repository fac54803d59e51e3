"""Signing up from an invitation: proving the address with a code."""
