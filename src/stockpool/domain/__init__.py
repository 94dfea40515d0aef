"""Pure rules of stockpool: quantities, the ledger, allocation. Standard library only."""
