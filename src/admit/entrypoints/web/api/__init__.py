"""REST API ``/api/v1``."""
