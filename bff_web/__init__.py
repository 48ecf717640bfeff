"""The web BFF: rich, one round trip per browser screen."""
