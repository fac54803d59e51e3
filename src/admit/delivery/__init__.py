"""Delivery: the outbox worker, message rendering, SMTP and SMS gateways."""
