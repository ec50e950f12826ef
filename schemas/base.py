"""The base class of every event payload model."""

from pydantic import BaseModel, ConfigDict


class Payload(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
