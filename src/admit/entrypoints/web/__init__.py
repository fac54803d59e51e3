"""HTTP entrypoints: the REST API (and, later, the hosted pages and SCIM)."""
