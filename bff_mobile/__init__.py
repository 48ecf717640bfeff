"""The mobile BFF: compact answers for phones on slow networks."""
