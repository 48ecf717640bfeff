"""The domain services: each owns its data and verifies its callers itself."""
