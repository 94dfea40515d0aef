"""stockpool: one stock ledger, available-to-sell on every channel."""
