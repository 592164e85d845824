"""The site's supervisor policy from Settings, and the supervisors it declares in a YAML (or JSON) file.

The file (docs/feed-protocol.md, "Supervisor identity"): `VIGIE_SUPERVISORS_FILE`, else `supervisors.yaml` in
the state folder, else the territory's `services/data/<territory>/supervisors.yaml`:

    supervisors:
      - id: lum-mtp
        domain: lighting
        max_assets: 40000
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Literal

import msgspec
import yaml
from msgspec import Meta, Struct

from services.core.registry import Declared, RegistryConfig
from services.settings import Settings

log = logging.getLogger(__name__)

APPROVAL_MODES = ("open", "required")
FILE_NAME = "supervisors.yaml"
SIMULATOR_IDS = ("lum-mtp", "eau-mtp", "trafic-mtp")  # services.simulators.DEFAULT_IDS, started in-process by `make run`


class SupervisorsConfigError(ValueError):
    """The supervisor settings or file cannot be used; the text says what to fix."""


class DeclaredDoc(Struct, forbid_unknown_fields=True, frozen=True):
    id: Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
    domain: Literal["lighting", "water", "traffic"]
    max_assets: Annotated[int, Meta(ge=1, le=10_000_000)] | None = None
    name: Annotated[str, Meta(max_length=120)] = ""


class FileDoc(Struct, forbid_unknown_fields=True, frozen=True):
    supervisors: list[DeclaredDoc] = []


def declared_path(settings: Settings) -> Path | None:
    """The file that declares the site's supervisors, or None when there is none."""
    if settings.supervisors_file is not None:
        return settings.supervisors_file
    for path in (settings.state_dir / FILE_NAME, settings.data_dir / settings.territory / FILE_NAME):
        if path.is_file():
            return path
    return None


def load_declared(path: Path) -> tuple[Declared, ...]:
    """Read and check a supervisors file."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        doc = msgspec.convert(raw, FileDoc)
    except OSError as err:
        raise SupervisorsConfigError(f"supervisors file {path} unreadable: {err}") from err
    except (yaml.YAMLError, msgspec.ValidationError) as err:
        raise SupervisorsConfigError(f"supervisors file {path}: {err}") from err
    ids = [d.id for d in doc.supervisors]
    if len(ids) != len(set(ids)):
        raise SupervisorsConfigError(f"supervisors file {path}: an id is declared twice")
    return tuple(Declared(d.id, d.domain, d.max_assets, d.name) for d in doc.supervisors)


def simulator_ids(settings: Settings) -> tuple[str, ...]:
    """The in-process simulators' ids, as the territory's manifest names them (SIMULATOR_IDS for Montpellier)."""
    from services.simulators import supervisor_ids

    try:
        return tuple(supervisor_ids(settings.territory).values())
    except ValueError:  # no usable territory: the app says so where it loads it
        return SIMULATOR_IDS


def registry_config(settings: Settings) -> RegistryConfig:
    """The registry's policy: approval mode, auto-approved ids (the in-process simulators too), declared supervisors."""
    if settings.supervisors_approval not in APPROVAL_MODES:
        raise SupervisorsConfigError(f"VIGIE_SUPERVISORS_APPROVAL={settings.supervisors_approval!r}: one of {', '.join(APPROVAL_MODES)}")
    if settings.supervisor_max_assets < 1:
        raise SupervisorsConfigError("VIGIE_SUPERVISOR_MAX_ASSETS must be at least 1")
    path = declared_path(settings)
    declared = load_declared(path) if path is not None else ()
    auto = tuple(settings.supervisors_auto_approve) + (simulator_ids(settings) if settings.run_simulators else ())
    log.info("supervisors: approval %s, %d declared%s, auto-approved %s", settings.supervisors_approval, len(declared),
             f" in {path}" if path else "", ", ".join(auto) or "none")
    return RegistryConfig(approval=settings.supervisors_approval, auto_approve=auto, declared=declared,
                          max_assets=settings.supervisor_max_assets)
