"""Isolating a water pipe: which valves cut it off, and what each would cut off with it. Pure: the network is given.

Vigie knows the network only by the relations the water supervisor sends: a pipe's `upstream`
pipe, the pipe a valve, a sensor or a junction sits on. The pipes form a tree fed from the pumps
and reservoirs, so water reaches a pipe only through its chain of upstream pipes; closing the valve
at the head of any pipe of that chain cuts the pipe off, with everything fed through that valve.
The nearest valve upstream cuts the least; farther ones are offered too (a valve may be out of
order or unreachable). Sensors show what each option would leave without supply.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

MAX_CHAIN = 10_000  # a bad `upstream` loop stops here instead of looping
MAX_OPTIONS = 4  # valves offered, nearest first


@dataclass(frozen=True, slots=True)
class Node:
    """What isolation needs of a water asset."""

    id: str
    type: str
    name: str
    refs: Mapping[str, Any]
    length_m: float = 0.0
    main: bool = False
    position: float | None = None  # a valve's opening, 0..1


def node_of(a: Any) -> Node:
    """A Node from an AssetRecord or its `to_dict()`."""
    get = a.get if isinstance(a, Mapping) else lambda k, d=None: getattr(a, k, d)
    props, values = get("props") or {}, get("values") or {}
    length = props.get("length")
    pos = values.get("position")
    return Node(str(get("id")), str(get("type")), str(get("name") or ""), dict(get("refs") or {}),
                float(length) if isinstance(length, (int, float)) and not isinstance(length, bool) else 0.0,
                props.get("main") is True, float(pos) if isinstance(pos, (int, float)) and not isinstance(pos, bool) else None)


@dataclass(frozen=True, slots=True)
class IsolationOption:
    """One valve that isolates the pipe, and what closing it cuts off."""

    valve: str
    name: str
    on_pipe: str  # the pipe at whose head the valve sits
    hops: int  # 0: on the leaking pipe itself; n: n pipes upstream
    main: bool
    position: float | None
    pipes: tuple[str, ...]
    sensors: tuple[tuple[str, str], ...]  # (id, name)
    junctions: int
    km: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (the command panel's store)."""
        return {"valve": self.valve, "name": self.name, "on_pipe": self.on_pipe, "hops": self.hops, "main": self.main,
                "position": self.position, "pipes": len(self.pipes), "sensors": [list(s) for s in self.sensors],
                "junctions": self.junctions, "km": self.km}


class WaterNet:
    """The pipe tree and what sits on each pipe, from the water assets' relations."""

    def __init__(self, assets: Iterable[Any]) -> None:
        self.nodes: dict[str, Node] = {}
        self.children: dict[str, list[str]] = {}
        self.on_pipe: dict[str, list[Node]] = {}  # pipe -> valves, sensors, junctions on it
        for a in assets:
            n = a if isinstance(a, Node) else node_of(a)
            self.nodes[n.id] = n
        for n in self.nodes.values():
            if n.type == "Pipe":
                up = n.refs.get("upstream")
                if up:
                    self.children.setdefault(str(up), []).append(n.id)
            elif n.refs.get("pipe"):
                self.on_pipe.setdefault(str(n.refs["pipe"]), []).append(n)

    def is_pipe(self, asset_id: str) -> bool:
        """Is this a pipe of the network?"""
        n = self.nodes.get(asset_id)
        return n is not None and n.type == "Pipe"

    def chain(self, pipe_id: str) -> list[str]:
        """The pipe, then its upstream pipes up to the source."""
        out, seen, at = [], set(), pipe_id
        while at and at not in seen and at in self.nodes and len(out) < MAX_CHAIN:
            seen.add(at)
            out.append(at)
            at = str(self.nodes[at].refs.get("upstream") or "")
        return out

    def below(self, pipe_id: str) -> list[str]:
        """The pipe and every pipe fed through it."""
        out, todo, seen = [], [pipe_id], {pipe_id}
        while todo:
            p = todo.pop()
            out.append(p)
            for c in self.children.get(p, ()):
                if c not in seen:
                    seen.add(c)
                    todo.append(c)
        return out

    def sensors_on(self, pipes: Iterable[str]) -> list[Node]:
        """The sensors on these pipes, by name."""
        found = [n for p in pipes for n in self.on_pipe.get(p, ()) if n.type == "Device"]
        return sorted(found, key=lambda n: (n.name or n.id, n.id))

    def affected_sensors(self, pipe_id: str) -> tuple[list[Node], list[Node]]:
        """A pipe's sensors, and those downstream whose pressure and flow it feeds (a leak here shows there)."""
        here = self.sensors_on([pipe_id])
        return here, self.sensors_on(self.below(pipe_id)[1:])

    def isolation(self, pipe_id: str, limit: int = MAX_OPTIONS) -> list[IsolationOption]:
        """The valves that cut the pipe off, nearest first, with what each cuts off."""
        out: list[IsolationOption] = []
        for hops, head in enumerate(self.chain(pipe_id)):
            for v in sorted((n for n in self.on_pipe.get(head, ()) if n.type == "Valve"), key=lambda n: n.id):
                pipes = self.below(head)
                km = round(sum(self.nodes[p].length_m for p in pipes) / 1000, 2)
                junctions = sum(1 for p in pipes for n in self.on_pipe.get(p, ()) if n.type == "Junction")
                out.append(IsolationOption(v.id, v.name or v.id, head, hops, v.main, v.position, tuple(pipes),
                                           tuple((s.id, s.name or s.id) for s in self.sensors_on(pipes)), junctions, km))
                if len(out) >= limit:
                    return out
        return out
