"""The users service: profiles, and the development token issuer with its JWKS."""
