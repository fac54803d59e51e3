"""What a person does, one folder per self-service flow."""
