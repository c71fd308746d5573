"""Example applications: `kvstore` (a replicated key-value store)."""
