"""RFC 7512 PKCS#11 URIs naming a force's key, read without loading any PKCS#11 module."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from crossforce.contracts.errors import ContractError, ReasonCode

MODULE_ENV = "CROSSFORCE_PKCS11_MODULE"
PIN_ENV = "CROSSFORCE_PKCS11_PIN"


@dataclass(frozen=True, slots=True)
class Pkcs11Uri:
    """The parts of an RFC 7512 URI that pick one key."""

    token: str
    label: str
    key_id: bytes | None = None
    module_path: str | None = None
    pin_file: Path | None = None

    @classmethod
    def parse(cls, uri: str) -> Pkcs11Uri:
        if not uri.startswith("pkcs11:"):
            raise invalid(uri, "does not start with pkcs11:")
        path, _, query = uri[len("pkcs11:") :].partition("?")
        attributes = _pairs(path, ";", uri)
        options = _pairs(query, "&", uri)
        if "pin-value" in options:
            raise invalid(uri, f"carries a PIN: give it in ${PIN_ENV} instead")
        if "token" not in attributes or "object" not in attributes:
            raise invalid(uri, "needs token=... and object=...")
        pin_source = options.get("pin-source")
        if pin_source is not None and not pin_source.startswith("file:"):
            raise invalid(uri, "pin-source must be file:PATH")
        key_id = attributes.get("id")
        return cls(
            token=attributes["token"],
            label=attributes["object"],
            key_id=key_id.encode("latin-1") if key_id is not None else None,
            module_path=options.get("module-path"),
            pin_file=Path(pin_source.removeprefix("file:")) if pin_source else None,
        )


def _pairs(text: str, separator: str, uri: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for item in filter(None, text.split(separator)):
        name, equals, value = item.partition("=")
        if not equals:
            raise invalid(uri, f"{item!r} is not name=value")
        pairs[name] = unquote(value, encoding="latin-1")
    return pairs


def invalid(uri: str, why: str) -> ContractError:
    shown = uri.split("?", 1)[0]  # never echo a query: it may carry a PIN
    return ContractError(ReasonCode.KEY_FILE_INVALID, f"PKCS#11 key {shown} {why}")


def is_pkcs11_uri(value: str) -> bool:
    return value.startswith("pkcs11:")
