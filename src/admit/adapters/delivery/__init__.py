"""Delivering messages: rendering templates and the SMTP/SMS transports."""
