"""The small kit every Frontdoor process shares: settings, errors, tokens, clients, health."""
