"""Schemas the market's endpoints share: an offer and a bid as placed (POST /v1/offers, /v1/bids and the seed's
POST /v1/transactions actions "offer", "bid" and "accept")."""

from decimal import Decimal
from typing import Annotated

from ninja import Field, Schema
from pydantic import ConfigDict

from aitbc_site.inputs import Amount

# hours of a bundle of GPUs: up to 100,000 (11 years), in hundredths
Hours = Annotated[Decimal, Field(gt=0, le=100000, max_digits=8, decimal_places=2, allow_inf_nan=False)]


class OfferIn(Schema):
    model_config = ConfigDict(extra="forbid")
    gpu_model: str = Field(min_length=1, max_length=100)
    gpu_memory_gb: int = Field(ge=1, le=4096)
    gpu_count: int = Field(default=1, ge=1, le=1024)
    cuda_version: str = Field(default="", max_length=16)
    region: str = Field(default="", max_length=64)
    price_per_hour: Amount = Field(description="AIT per GPU per hour")
    hours: Hours


class BidIn(Schema):
    model_config = ConfigDict(extra="forbid")
    gpu_model: str = Field(min_length=1, max_length=100)
    min_gpu_memory_gb: int = Field(default=0, ge=0, le=4096)
    gpu_count: int = Field(default=1, ge=1, le=1024)
    region: str = Field(default="", max_length=64, description="empty: any region")
    max_price_per_hour: Amount = Field(
        description="AIT per GPU per hour; with hours and gpu_count, what is held must stay under 10^10 AIT"
    )
    hours: Hours
