"""Identity adapters: password hashing (and, later, OpenID Connect)."""
