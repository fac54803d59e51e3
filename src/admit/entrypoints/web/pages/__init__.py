"""Hosted pages for invitees: the invitation link, welcome, claim, sign-in, accept and decline."""
