"""Every table of stockpool: importing this module registers them all on `metadata`.

Tables live in modules by concept (`tables` for the catalog and ledger, more beside it);
migrations and schema checks use this module so that none is forgotten.
"""

from stockpool.store import (
    allocation_tables,
    api_tables,
    order_tables,
    purchasing_tables,
    sync_tables,
    tables,
)
from stockpool.store.tables import metadata

__all__ = [
    "allocation_tables",
    "api_tables",
    "metadata",
    "order_tables",
    "purchasing_tables",
    "sync_tables",
    "tables",
]
