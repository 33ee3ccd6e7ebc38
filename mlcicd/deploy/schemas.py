"""Request bodies of the HTTP server (pydantic; imported only by :mod:`mlcicd.deploy.serve`)."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

# JSON has no NaN or infinity; null marks a missing value (imputed by the pipeline).
Feature = Annotated[float, Field(allow_inf_nan=False)] | None


class PredictRequest(BaseModel):
    """One row of features, and the key that makes the assignment sticky."""

    model_config = ConfigDict(extra="forbid")
    features: list[Feature] = Field(min_length=1, max_length=10_000)
    key: str | None = Field(default=None, max_length=256)


class FeedbackRequest(BaseModel):
    """The true label of an earlier request."""

    model_config = ConfigDict(extra="forbid")
    request_id: int = Field(ge=0)
    label: int | str


class DeployRequest(BaseModel):
    """Load an artifact folder (hash-checked) into an idle slot."""

    model_config = ConfigDict(extra="forbid")
    slot: str = Field(min_length=1, max_length=64)
    artifact: str = Field(min_length=1, max_length=4096)


class SwitchRequest(BaseModel):
    """Send all traffic to a slot, or to the slot holding a version (after its health
    check, when the server has one)."""

    model_config = ConfigDict(extra="forbid")
    slot: str | None = Field(default=None, min_length=1, max_length=64)
    version: str | None = Field(default=None, min_length=1, max_length=128)


class CanaryStartRequest(BaseModel):
    """Start a canary of the model held by ``slot``."""

    model_config = ConfigDict(extra="forbid")
    slot: str = Field(min_length=1, max_length=64)
    steps: list[float] = Field(default=[0.05, 0.10, 0.25, 0.50, 1.0], min_length=1,
                               max_length=20)
    min_requests: int = Field(default=100, ge=1)
    max_error_rate: float = Field(default=0.01, ge=0, le=1)
    min_labels: int = Field(default=0, ge=0)
    max_accuracy_drop: float = Field(default=0.05, ge=0, le=1)


class CanaryAdvanceRequest(BaseModel):
    """Analyse the current step and act; ``force`` moves on regardless of the analysis."""

    model_config = ConfigDict(extra="forbid")
    force: bool = False
