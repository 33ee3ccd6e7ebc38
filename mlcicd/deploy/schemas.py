"""Request bodies of the HTTP server (pydantic; imported only by the server's routes).

Every field is bounded (lengths, ranges), so a request can neither grow the server's
memory nor reach a model with a value it cannot take; the limits are listed in
:mod:`mlcicd.deploy.serve`.
"""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

# JSON has no NaN or infinity; null marks a missing value (imputed by the pipeline).
Feature = Annotated[float, Field(allow_inf_nan=False)] | None
#: Labels are class names or numbers of bounded size (a label is stored per request).
Label = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)] | Annotated[str, Field(max_length=256)]


class PredictRequest(BaseModel):
    """One row of features, and the key that makes the assignment sticky."""

    model_config = ConfigDict(extra="forbid")
    features: list[Feature] = Field(min_length=1, max_length=10_000)
    key: str | None = Field(default=None, max_length=256)


class FeedbackRequest(BaseModel):
    """The true label of an earlier request."""

    model_config = ConfigDict(extra="forbid")
    request_id: int = Field(ge=0, le=2**63 - 1)
    label: Label


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
    min_requests: int = Field(default=100, ge=1, le=10_000_000)
    max_error_rate: float = Field(default=0.01, ge=0, le=1)
    # Over HTTP labels may never come: the accuracy guardrail is off unless asked for.
    min_labels: int = Field(default=0, ge=0, le=10_000_000)
    max_accuracy_drop: float = Field(default=0.05, ge=0, le=1)
    max_latency_ms: float | None = Field(default=None, gt=0, le=3_600_000)
    # Left out: the defaults of CanaryPlan (the offline release's error rates).
    alpha: float | None = Field(default=None, gt=0, lt=0.5)
    beta: float | None = Field(default=None, gt=0, lt=0.5)
    paired: bool | None = None


class CanaryAdvanceRequest(BaseModel):
    """Analyse the current step and act; ``force`` moves on regardless of the analysis."""

    model_config = ConfigDict(extra="forbid")
    force: bool = False
