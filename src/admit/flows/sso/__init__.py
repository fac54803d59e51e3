"""Single sign-on with an identity provider, joining a workspace through it."""
