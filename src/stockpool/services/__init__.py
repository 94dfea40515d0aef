"""Use cases: one function per command, each run in one unit of work."""
