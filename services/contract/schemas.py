"""JSON Schemas (draft 2020-12) of the feed contract, generated from the msgspec Structs.

`python -m services.contract.schemas docs/schemas` (or `make schemas`) writes one file per message kind
(and per domain for `telemetry` and `state`, whose readings differ by domain). Each kind keeps the
contract version it was introduced in (`state_ready`: 2, the others: 1). The Structs in `messages.py`
are the truth; these files are their published, language-neutral form.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import msgspec

from .channels import DOMAINS
from .messages import KIND_VERSIONS, Ack, Alarm, Command, Heartbeat, StateReady, StateRequest, message_type

DIALECT = "https://json-schema.org/draft/2020-12/schema"
ID_BASE = "urn:vigie:feed:v{version}:"
PER_DOMAIN_KINDS = ("telemetry", "state")
SINGLE_KINDS = ("alarm", "heartbeat", "ack", "state_ready", "command", "state_request")

_SUP = "sup.<domain>.<supervisor_id>.{kind}"
_CMD = "cmd.<domain>.<supervisor_id>"

_SUMMARIES: dict[str, str] = {
    "telemetry": "A batch of {domain} readings from one supervisor; only changed assets need to be sent.",
    "state": "A full snapshot of a {domain} supervisor's assets, readings and active alarms, possibly in several parts.",
    "alarm": "Alarm events (raise / clear) from one supervisor.",
    "heartbeat": "A supervisor saying it is alive (every few seconds; Vigie marks a silent supervisor late, then stale).",
    "ack": "A supervisor's answer to a command: accepted or rejected at once, then applied, partial or failed.",
    "command": "An operator command sent by Vigie to one supervisor.",
    "state_request": "Vigie asking a supervisor for a fresh full `state` (after a sequence gap or a reconnect).",
    "state_ready": "Contract v2: a new version of a supervisor's full state is retained in Redis, its parts written before this.",
}


def _file_name(kind: str, domain: str | None) -> str:
    return f"{kind}.{domain}.schema.json" if domain else f"{kind}.schema.json"


def _struct_type(kind: str, domain: str | None) -> object:
    if kind in PER_DOMAIN_KINDS:
        return message_type(domain or "", kind)
    return {"alarm": Alarm, "heartbeat": Heartbeat, "ack": Ack, "command": Command, "state_request": StateRequest,
            "state_ready": StateReady}[kind]


def _hoist_descriptions(properties: dict[str, Any]) -> None:
    """Lift the description (and so the unit) of an optional field out of its `anyOf` to the property."""
    for prop in properties.values():
        branches = prop.get("anyOf")
        if not branches or "description" in prop:
            continue
        described = [b for b in branches if "description" in b]
        if len(described) == 1:
            prop["description"] = described[0].pop("description")


def message_schema(kind: str, domain: str | None = None) -> dict[str, Any]:
    """Return the JSON Schema of one message kind (of one domain for telemetry and state)."""
    if (kind in PER_DOMAIN_KINDS) != (domain is not None):
        raise ValueError(f"{kind!r} needs a domain" if kind in PER_DOMAIN_KINDS else f"{kind!r} takes no domain")
    if domain is not None and domain not in DOMAINS:
        raise ValueError(f"unknown domain {domain!r}")
    generated = msgspec.json.schema(_struct_type(kind, domain))
    defs: dict[str, Any] = generated.get("$defs", {})
    root_name = generated["$ref"].rsplit("/", 1)[-1]
    root = defs.pop(root_name)
    for sub in defs.values():
        _hoist_descriptions(sub.get("properties", {}))
    props: dict[str, Any] = root["properties"]
    _hoist_descriptions(props)
    version = KIND_VERSIONS.get(kind, 1)
    props["v"] = {"const": version, "description": "Contract version"}
    props["kind"] = {"const": kind, "description": "Message kind (repeats the channel's last part)"}
    props["domain"] = {"const": domain} if domain is not None else props["domain"]
    props["domain"]["description"] = "Domain (repeats the channel's second part)"
    channel = _CMD if kind in ("command", "state_request") else _SUP.format(kind=kind)
    if domain is not None:
        channel = channel.replace("<domain>", domain)
    title = f"Vigie feed v{version}: {kind.replace('_', ' ')}" + (f" ({domain})" if domain else "")
    description = " ".join(
        [_SUMMARIES[kind].format(domain=domain or ""), f"Published on `{channel}`.", root.get("description", "")]
    ).strip()
    schema: dict[str, Any] = {
        "$schema": DIALECT,
        "$id": ID_BASE.format(version=version) + _file_name(kind, domain),
        "title": title,
        "description": description,
        "type": "object",
        "properties": props,
        "required": root.get("required", []),
    }
    if defs:
        schema["$defs"] = defs
    return schema


def all_schemas() -> dict[str, dict[str, Any]]:
    """Return every published schema, keyed by file name."""
    out: dict[str, dict[str, Any]] = {}
    for kind in PER_DOMAIN_KINDS:
        for domain in DOMAINS:
            out[_file_name(kind, domain)] = message_schema(kind, domain)
    for kind in SINGLE_KINDS:
        out[_file_name(kind, None)] = message_schema(kind)
    return out


def render(schema: dict[str, Any]) -> str:
    """Serialise a schema the way it is committed (stable, indented, newline at the end)."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def write_schemas(directory: Path) -> list[Path]:
    """Write every schema into `directory` and return the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in all_schemas().items():
        path = directory / name
        path.write_text(render(schema), encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    """Write the schemas into the directory given on the command line."""
    p = argparse.ArgumentParser(prog="python -m services.contract.schemas", description=__doc__.splitlines()[0])
    p.add_argument("directory", type=Path, help="where to write the *.schema.json files (e.g. docs/schemas)")
    args = p.parse_args(argv)
    for path in write_schemas(args.directory):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
