"""The ``access:`` entries of a workload: one model per integration, built from its record (IAM-5).

Each entry names one AWS integration of the source document and the resource it is scoped
to, by ARN or by name. The models are made from the records of
:mod:`ecs_platform.integrations` (fields, documentation, allowed values), so the
vocabulary is written once; the actions each grants are in those records too. Plain data:
no CDK import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, create_model, model_validator

from ecs_platform.integrations import INTEGRATIONS, Integration, Param


class AccessEntryBase(BaseModel):
    """What every entry has: its ``type`` (the integration) and an optional ``kms_key``."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    kms_key: str | None = Field(
        default=None, description="ARN of the customer-managed KMS key that encrypts the resource: adds kms:Decrypt via the service."
    )

    INTEGRATION: ClassVar[Integration]
    type: str

    def value(self, field: str) -> Any:
        """The value of one of the integration's fields (the models are built at run time, so typed code asks here)."""
        return getattr(self, field, None)

    def resources(self) -> list[tuple[str, str, str]]:
        """``(field, kind, value)`` of each resource the entry names, its KMS key included."""
        found = []
        named = [(p.name, p.kind) for p in self.INTEGRATION.params if p.kind is not None]
        for field, kind in (*named, ("kms_key", "kms_key")):
            value = getattr(self, field)
            for item in value if isinstance(value, list) else [value]:
                if item is not None:
                    found.append((field, kind, item))
        return found

    @model_validator(mode="after")
    def _one_of(self) -> AccessEntryBase:
        wanted = self.INTEGRATION.one_of
        if wanted and not any(getattr(self, name) not in (None, []) for name in wanted):
            given = " nor ".join(wanted)
            raise ValueError(f"neither {given} given; allowed: {', '.join(wanted[:-1])}, {wanted[-1]}, or both")
        return self


def _annotation(param: Param) -> tuple[Any, Any]:
    """The pydantic type and default of one param."""
    base: Any
    if param.choices:
        base = Literal[param.choices]
    elif param.pattern is not None:
        base = Annotated[str, Field(pattern=f"^{param.pattern}$")]
    else:
        base = str
    if param.many:
        return list[base], Field(default_factory=list, description=param.doc)
    if not param.required:
        return base | None, Field(default=None, description=param.doc)
    return base, Field(description=param.doc)


def _model(integration: Integration) -> type[AccessEntryBase]:
    fields: dict[str, Any] = {"type": (Literal[integration.type], ...)}
    for param in integration.params:
        fields[param.name] = _annotation(param)
    model = create_model(
        integration.title,
        __base__=AccessEntryBase,
        __doc__=integration.doc,
        __module__=__name__,
        **fields,
    )
    model.INTEGRATION = integration
    return model


ENTRY_MODELS: dict[str, type[AccessEntryBase]] = {name: _model(integration) for name, integration in INTEGRATIONS.items()}
"""Each integration's ``type`` and its model."""

if TYPE_CHECKING:
    AccessEntry = AccessEntryBase
else:
    AccessEntry = Annotated[Union[tuple(ENTRY_MODELS.values())], Field(discriminator="type")]  # noqa: UP007 - built at run time
    """One entry of ``access:``: the model of its ``type`` (a discriminated union)."""
