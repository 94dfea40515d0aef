"""Field types shared by every schema: codes, quantities, money, pages."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictInt

MAX_UNITS = 1_000_000_000

Code = Annotated[str, Field(min_length=1, max_length=100, examples=["WH1"])]
Sku = Annotated[str, Field(min_length=1, max_length=100, examples=["TEE-M"])]
Text = Annotated[str, Field(max_length=2000)]
Units = Annotated[StrictInt, Field(ge=1, le=MAX_UNITS, description="Whole units, at least 1.")]
UnitsOrZero = Annotated[StrictInt, Field(ge=0, le=MAX_UNITS, description="Whole units.")]
SignedUnits = Annotated[
    StrictInt, Field(ge=-MAX_UNITS, le=MAX_UNITS, description="A signed change in units.")
]
Money = Annotated[
    Decimal,
    Field(ge=0, le=Decimal("99999999999999"), max_digits=18, decimal_places=4, examples=["12.50"]),
]


class Input(BaseModel):
    """A request body: unknown fields are refused, not ignored."""

    model_config = ConfigDict(extra="forbid")


class Output(BaseModel):
    """A response body."""


class Health(Output):
    """The server is up."""

    status: str = "ok"
