"""SCIM 2.0 (RFC 7643 and 7644) for identity providers: the protocol's pure parts (schemas,
filters, PATCH, attribute projection, pagination, errors, ETags) and the bearer tokens that
authenticate an identity provider at ``/scim/v2``."""
