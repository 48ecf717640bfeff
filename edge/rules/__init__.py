"""The edge's admission rules, one per module; `edge.admission` runs them in order."""
