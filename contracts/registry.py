"""The message registry: (name, version) -> model, plus upcasters to the latest version.

Older versions stay accepted for ever: a payload is validated against the model of the
version it was sent as, then upcast one step at a time to the latest model.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import ValidationError
from pydantic_core import to_json

from crossforce.contracts.envelope import Envelope, parse_type_uri
from crossforce.contracts.errors import ContractError, ReasonCode

if TYPE_CHECKING:
    # Only for annotations: the message modules import this one to register themselves.
    from crossforce.contracts.messages.base import Message

M = TypeVar("M", bound="type[Message]")
Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


class MessageRegistry:
    def __init__(self) -> None:
        self._models: dict[tuple[str, int], type[Message]] = {}
        self._upcasters: dict[tuple[str, int], Upcaster] = {}

    def register(self, model: M) -> M:
        key = (model.NAME, model.VERSION)
        if key in self._models and self._models[key] is not model:
            raise ValueError(f"{model.type_uri()} is registered twice")
        self._models[key] = model
        return model

    def upcaster(self, name: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
        """Register a dict -> dict function from `from_version` to `from_version + 1`."""

        def decorate(func: Upcaster) -> Upcaster:
            self._upcasters[(name, from_version)] = func
            return func

        return decorate

    def names(self) -> list[str]:
        return sorted({name for name, _ in self._models})

    def versions(self, name: str) -> list[int]:
        return sorted(version for n, version in self._models if n == name)

    def latest(self, name: str) -> type[Message]:
        versions = self.versions(name)
        if not versions:
            raise ContractError(ReasonCode.UNKNOWN_TYPE, f"unknown message type {name!r}")
        return self._models[(name, versions[-1])]

    def model_for(self, name: str, version: int) -> type[Message]:
        if not self.versions(name):
            raise ContractError(ReasonCode.UNKNOWN_TYPE, f"unknown message type {name!r}")
        model = self._models.get((name, version))
        if model is None:
            raise ContractError(
                ReasonCode.UNKNOWN_VERSION,
                f"{name} has versions {self.versions(name)}, not v{version}",
            )
        return model

    def catalogue(self) -> list[type[Message]]:
        return [self._models[key] for key in sorted(self._models)]

    def parse(self, type_value: str, data: dict[str, Any]) -> Message:
        """Validate `data` as the given type and upcast it to the latest version."""
        name, version = parse_type_uri(type_value)
        model = self.model_for(name, version)
        message = _validate(model, data)
        target = self.latest(name).VERSION
        while version < target:
            step = self._upcasters.get((name, version))
            if step is None:
                raise ContractError(
                    ReasonCode.UNKNOWN_VERSION, f"no upcaster from {name} v{version}"
                )
            version += 1
            message = _validate(
                self.model_for(name, version), step(message.model_dump(mode="json"))
            )
        return message

    def open(self, envelope: Envelope) -> Message:
        return self.parse(envelope.type, envelope.data)


def _validate(model: type[Message], data: dict[str, Any]) -> Message:
    try:
        # Strict, in JSON terms, as the published schema is: `12345` is not a date-time.
        return model.model_validate_json(to_json(data), strict=True)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "data"
        raise ContractError(
            ReasonCode.SCHEMA_INVALID, f"{model.type_uri()} data.{where}: {first['msg']}"
        ) from None


REGISTRY = MessageRegistry()

# Importing the registry loads the whole catalogue, so REGISTRY is never seen half-empty.
# Last, because each message module imports REGISTRY from here to register itself.
import crossforce.contracts.messages  # noqa: E402, F401
