"""`python -m bench.edge`: the edge's throughput and latency against a direct backend and nginx."""
