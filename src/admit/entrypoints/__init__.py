"""The doors: web pages and REST API, the CLI, and the background workers."""
