"""Use cases. Each public function owns one transaction and is called by every entrypoint alike
(REST API, CLI, and later pages, SCIM and importers)."""
