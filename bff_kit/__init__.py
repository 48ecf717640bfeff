"""What only a BFF needs: calling services under a deadline, with retries, breakers and fan-out.

The kit in `service_defaults` is what every process shares; this package is the
aggregation wing on top of it, and only the BFFs may import it (a test checks).
"""
