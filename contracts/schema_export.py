"""JSON Schema for every (message name, version), snapshots, and a compatibility check.

A published version is a promise: senders built against it must keep being accepted. So a
version's schema may only change compatibly (new optional fields, wider enums, looser
limits). Anything else needs a new version with an upcaster. The snapshots in
`contracts/schemas/` are the published schemas; tests compare the live models against them.

Refresh the snapshots with:

    python -m crossforce.contracts.schema_export
    crossforce contracts export contracts/schemas   # or, from the CLI

which refuses to overwrite a snapshot with an incompatible schema unless given --force.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from crossforce.contracts.envelope import type_uri
from crossforce.contracts.messages.base import Message
from crossforce.contracts.registry import REGISTRY

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SNAPSHOT_DIR = Path(__file__).parent / "schemas"
REFRESH_HINT = (
    "refresh the snapshots with `python -m crossforce.contracts.schema_export` "
    "(or `crossforce contracts export contracts/schemas`) and commit contracts/schemas/"
)

Schema = dict[str, Any]


class IncompatibleSchemaError(Exception):
    """A published version's schema would change incompatibly."""

    def __init__(self, problems: dict[str, list[str]]) -> None:
        self.problems = problems
        lines = [f"{uri}: {p}" for uri, found in problems.items() for p in found]
        super().__init__("incompatible schema changes:\n  " + "\n  ".join(lines))


def schema_for(model: type[Message]) -> Schema:
    """The JSON Schema of one message version, with its type URI as title and `$id`."""
    body = model.model_json_schema(mode="validation")
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": model.dataschema(),
        "title": model.type_uri(),
        "x-message-name": model.NAME,
        "x-message-version": model.VERSION,
        **{k: v for k, v in body.items() if k != "title"},
    }


def file_name(name: str, version: int) -> str:
    """`enquiry-requested`, 1 -> `uk.police.dvds.enquiry-requested.v1.json`."""
    return f"{type_uri(name, version)}.json"


def all_schemas() -> dict[str, Schema]:
    """File name -> schema for every registered (name, version)."""
    return {file_name(m.NAME, m.VERSION): schema_for(m) for m in REGISTRY.catalogue()}


def dumps(schema: Schema) -> str:
    # Stable text, so snapshot diffs in review show only real changes.
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def load_snapshots(directory: Path = SNAPSHOT_DIR) -> dict[str, Schema]:
    return {
        path.name: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(directory.glob("uk.police.dvds.*.json"))
    }


def write_schemas(directory: Path, *, force: bool = False) -> list[Path]:
    """Write one file per type and version. Refuses (IncompatibleSchemaError) to replace an
    existing file with an incompatible schema unless `force`."""
    directory.mkdir(parents=True, exist_ok=True)
    current = all_schemas()
    if not force:
        existing = load_snapshots(directory)
        problems = {
            name: found
            for name, schema in current.items()
            if name in existing and (found := incompatibilities(existing[name], schema))
        }
        if problems:
            raise IncompatibleSchemaError(problems)
    written = []
    for name, schema in current.items():
        path = directory / name
        text = dumps(schema)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


# Compatibility ------------------------------------------------------------------------------


def incompatibilities(old: Schema, new: Schema) -> list[str]:
    """Ways in which a payload valid under `old` could be invalid under `new`.

    Checks what breaks existing senders: a removed or renamed field, a changed type, a new
    required field, a narrowed enum or const, tighter length / range / item limits, a changed
    pattern or format, and closing an object to extra fields.
    """
    return list(_compare(_Ctx(old, new), old, new, "$"))


class _Ctx:
    def __init__(self, old_root: Schema, new_root: Schema) -> None:
        self.old_root = old_root
        self.new_root = new_root
        self.seen: set[tuple[str, str, str]] = set()

    @staticmethod
    def resolve(root: Schema, node: Schema) -> Schema:
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if not ref.startswith("#/"):
                raise ValueError(f"only local $ref is supported, not {ref}")
            target: Any = root
            for part in ref[2:].split("/"):
                target = target[part]
            extra = {k: v for k, v in node.items() if k != "$ref"}
            node = {**target, **extra}
        return node


def _branches(node: Schema) -> list[Schema] | None:
    for key in ("anyOf", "oneOf"):
        if key in node:
            return list(node[key])
    return None


def _types(node: Schema) -> set[str] | None:
    value = node.get("type")
    if value is None:
        return None
    types = {value} if isinstance(value, str) else set(value)
    if "number" in types:
        types.add("integer")  # every integer is a number
    return types


def _compare(ctx: _Ctx, old: Schema, new: Schema, where: str) -> Iterator[str]:
    # Recursive models would loop for ever; compare each pair of $refs once.
    key = (where, json.dumps(old, sort_keys=True), json.dumps(new, sort_keys=True))
    if key in ctx.seen:
        return
    ctx.seen.add(key)
    old = ctx.resolve(ctx.old_root, old)
    new = ctx.resolve(ctx.new_root, new)
    if new == {}:
        return  # anything goes now

    old_branches, new_branches = _branches(old), _branches(new)
    if old_branches is not None:
        # Every old alternative must still be accepted by some new alternative.
        for i, branch in enumerate(old_branches):
            yield from _accepted_somewhere(ctx, branch, new, f"{where}|{i}")
        return
    if new_branches is not None:
        yield from _accepted_somewhere(ctx, old, new, where)
        return

    old_types, new_types = _types(old), _types(new)
    if new_types is not None and (old_types is None or not old_types <= new_types):
        yield f"{where}: type changed from {sorted(old_types or ['any'])} to {sorted(new_types)}"
        return

    if "enum" in new:
        old_values = old.get("enum", [old["const"]] if "const" in old else None)
        if old_values is None:
            yield f"{where}: now restricted to {new['enum']}"
        else:
            dropped = [v for v in old_values if v not in new["enum"]]
            if dropped:
                yield f"{where}: enum no longer accepts {dropped}"
    if "const" in new and old.get("const", object()) != new["const"]:
        yield f"{where}: const changed to {new['const']!r}"

    for bound in ("maxLength", "maxItems", "maximum", "exclusiveMaximum", "maxProperties"):
        if bound in new and (bound not in old or new[bound] < old[bound]):
            yield f"{where}: {bound} tightened to {new[bound]}"
    for bound in ("minLength", "minItems", "minimum", "exclusiveMinimum", "minProperties"):
        if bound in new and (bound not in old or new[bound] > old[bound]):
            yield f"{where}: {bound} tightened to {new[bound]}"
    for exact in ("pattern", "format", "multipleOf"):
        if exact in new and old.get(exact) != new[exact]:
            yield f"{where}: {exact} changed from {old.get(exact)!r} to {new[exact]!r}"
    if new.get("uniqueItems") and not old.get("uniqueItems"):
        yield f"{where}: items must now be unique"

    if "items" in new and isinstance(new["items"], dict):
        yield from _compare(ctx, old.get("items", {}), new["items"], f"{where}[]")

    if (_types(new) or set()) & {"object"} or "properties" in new:
        yield from _compare_object(ctx, old, new, where)


def _accepted_somewhere(ctx: _Ctx, old: Schema, new: Schema, where: str) -> Iterator[str]:
    new_resolved = ctx.resolve(ctx.new_root, new)
    candidates = _branches(new_resolved) or [new_resolved]
    best: list[str] | None = None
    for candidate in candidates:
        found = list(_compare(_Ctx(ctx.old_root, ctx.new_root), old, candidate, where))
        if not found:
            return
        if best is None or len(found) < len(best):
            best = found
    yield from best or [f"{where}: no longer accepted"]


def _compare_object(ctx: _Ctx, old: Schema, new: Schema, where: str) -> Iterator[str]:
    old_props: dict[str, Schema] = old.get("properties", {})
    new_props: dict[str, Schema] = new.get("properties", {})
    closed = new.get("additionalProperties") is False
    for name, old_prop in old_props.items():
        if name not in new_props:
            if closed:
                yield f"{where}.{name}: field removed or renamed"
            continue
        yield from _compare(ctx, old_prop, new_props[name], f"{where}.{name}")
    newly_required = set(new.get("required", [])) - set(old.get("required", []))
    for name in sorted(newly_required):
        yield f"{where}.{name}: newly required"
    if closed and old.get("additionalProperties") is not False:
        yield f"{where}: no longer accepts extra fields"
    old_extra, new_extra = old.get("additionalProperties"), new.get("additionalProperties")
    if isinstance(new_extra, dict):
        yield from _compare(ctx, old_extra if isinstance(old_extra, dict) else {}, new_extra, where)


# Command line -------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the JSON Schema snapshots.")
    parser.add_argument("directory", nargs="?", type=Path, default=SNAPSHOT_DIR)
    parser.add_argument("--force", action="store_true", help="overwrite incompatible snapshots")
    args = parser.parse_args(argv)
    try:
        written = write_schemas(args.directory, force=args.force)
    except IncompatibleSchemaError as exc:
        print(exc, file=sys.stderr)
        print("publish a new version (with an upcaster) instead, or pass --force", file=sys.stderr)
        return 1
    print(f"wrote {len(written)} schemas to {args.directory}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
