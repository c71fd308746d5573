"""Roles of a member: each is a state of the core with one handler per event."""
