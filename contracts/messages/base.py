"""Base class for message payloads (the envelope's typed `data`)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict

from crossforce.contracts.envelope import SCHEMA_PREFIX, type_uri


class Message(BaseModel):
    """A versioned payload. Subclasses set NAME (kebab-case) and VERSION."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    NAME: ClassVar[str]
    VERSION: ClassVar[int] = 1

    @classmethod
    def type_uri(cls) -> str:
        return type_uri(cls.NAME, cls.VERSION)

    @classmethod
    def dataschema(cls) -> str:
        return f"{SCHEMA_PREFIX}{cls.type_uri()}"
