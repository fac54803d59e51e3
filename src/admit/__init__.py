"""Admit: invitations, account claim and sign-in for multi-tenant software."""

__version__ = "0.1.0"
