"""What the services need from persistence and the outside world; the store, the channel
connectors and the sync engine implement these protocols."""

from stockpool.services.ports.access import AccessRepository, AuditFilter, EventRepository
from stockpool.services.ports.allocation import AtsRepository, ChannelRepository, RuleRepository
from stockpool.services.ports.documents import CountRepository, PurchasingRepository
from stockpool.services.ports.ledger import (
    CatalogRepository,
    Page,
    StockRepository,
    TransferRepository,
)
from stockpool.services.ports.orders import OrderRepository
from stockpool.services.ports.sync import (
    ChannelConnection,
    SyncHealth,
    SyncRepository,
    SyncState,
    SyncTask,
)
from stockpool.services.ports.unit import Clock, UnitOfWork, UnitOfWorkFactory

__all__ = [
    "AccessRepository",
    "AtsRepository",
    "AuditFilter",
    "CatalogRepository",
    "ChannelConnection",
    "ChannelRepository",
    "Clock",
    "CountRepository",
    "EventRepository",
    "OrderRepository",
    "Page",
    "PurchasingRepository",
    "RuleRepository",
    "StockRepository",
    "SyncHealth",
    "SyncRepository",
    "SyncState",
    "SyncTask",
    "TransferRepository",
    "UnitOfWork",
    "UnitOfWorkFactory",
]
