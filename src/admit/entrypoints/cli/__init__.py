"""The ``admit`` command for operators and scripted onboarding."""
