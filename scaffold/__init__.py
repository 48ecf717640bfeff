"""`python -m scaffold <name>` (`make new-service NAME=<name>`): a new domain service,
modelled on the orders service and wired into the dev stack, compose, Kubernetes and
the tests that list every deployable."""
