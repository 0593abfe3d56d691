"""Routing benchmark scenarios: the YAML format of docs/scenarios.md, parsed and checked."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from waihu.adapters.simnet.trunks import EVENT_KINDS, LINE_CAUSES, SimTrunk, TrunkEvent
from waihu.domain.calls import LossCause
from waihu.domain.errors import ErrorDetail, ValidationError
from waihu.domain.trunks import Thresholds, Trunk, TrunkRole, parse_set


@dataclass(frozen=True, slots=True)
class RegionMix:
    share: float
    answer_rate: float
    empty_rate: float = 0.0
    busy_rate: float = 0.0
    rejected_rate: float = 0.0


@dataclass(slots=True)
class Scenario:
    name: str
    duration_minutes: float
    offered_cps: float
    seed: int
    value_per_answer: float
    line_loss_penalty: float
    billing_increment_seconds: int
    talk_mean_seconds: float
    regions: dict[str, RegionMix]
    business_mix: dict[str, float]
    trunks: list[Trunk]
    sim: dict[str, SimTrunk]
    events: list[TrunkEvent]
    caller_ids: list[dict[str, Any]] = field(default_factory=list)
    no_answer_seconds: float = 30.0
    ring_mean_seconds: float = 8.0
    max_line_retries: int = 2

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "duration_minutes": self.duration_minutes,
                "offered_cps": self.offered_cps, "seed": self.seed,
                "value_per_answer": self.value_per_answer, "line_loss_penalty": self.line_loss_penalty,
                "trunks": [t.trunk_id for t in self.trunks], "events": len(self.events)}


def _num(d: dict[str, Any], key: str, default: float, problems: list[ErrorDetail]) -> float:
    v = d.get(key, default)
    if isinstance(v, bool) or not isinstance(v, int | float):
        problems.append(ErrorDetail("scenario.not_a_number", f"{key} must be a number", field=key))
        return default
    return float(v)


def _trunk(raw: dict[str, Any], inc: int, problems: list[ErrorDetail]) -> tuple[Trunk, SimTrunk] | None:
    name = str(raw.get("name", "")).strip()
    if not name:
        problems.append(ErrorDetail("scenario.trunk_without_name", "every trunk needs a name", field="trunks"))
        return None
    loss_raw = raw.get("line_loss") or {}
    loss: dict[LossCause, float] = {}
    for k, v in loss_raw.items():
        try:
            cause = LossCause(k)
        except ValueError:
            problems.append(ErrorDetail("scenario.unknown_cause", f"unknown line-loss cause {k!r}",
                                        field=f"trunks.{name}.line_loss"))
            continue
        if cause not in LINE_CAUSES:
            problems.append(ErrorDetail("scenario.not_line_side", f"{k!r} is not a line-side cause",
                                        field=f"trunks.{name}.line_loss"))
        loss[cause] = float(v)
    pdd = raw.get("pdd_seconds", [1, 3])
    role = TrunkRole(raw.get("role", "backup" if raw.get("standby") else "primary"))
    th_raw = raw.get("thresholds") or {}
    th = Thresholds(**{k: v for k, v in th_raw.items() if k in Thresholds.__dataclass_fields__})
    trunk = Trunk(trunk_id=name, name=name, capacity=int(raw.get("capacity", 100)), cps=float(raw.get("cps", 10)),
                  cost_per_minute=float(raw.get("cost_per_minute", 0.0)),
                  billing_increment=int(raw.get("billing_increment_seconds", inc)),
                  cost_per_attempt=float(raw.get("cost_per_attempt", 0.0)),
                  regions=parse_set(raw.get("regions", "*")), business=parse_set(raw.get("business", "*")),
                  priority=int(raw.get("priority", 0)), role=role, thresholds=th)
    factor = {str(k): float(v) for k, v in (raw.get("answer_factor") or {"*": 1.0}).items()}
    sim = SimTrunk(name, trunk.capacity, trunk.cps, factor, loss, (float(pdd[0]), float(pdd[1])))
    return trunk, sim


def parse(doc: dict[str, Any]) -> Scenario:
    problems: list[ErrorDetail] = []
    inc = int(_num(doc, "billing_increment_seconds", 60, problems))
    regions: dict[str, RegionMix] = {}
    for name, r in (doc.get("regions") or {}).items():
        regions[str(name)] = RegionMix(float(r.get("share", 1.0)), float(r.get("answer_rate", 0.4)),
                                       float(r.get("empty_rate", 0.0)), float(r.get("busy_rate", 0.0)),
                                       float(r.get("rejected_rate", 0.0)))
    if not regions:
        problems.append(ErrorDetail("scenario.no_regions", "regions must list at least one region", field="regions"))
    mix = {str(k): float(v) for k, v in (doc.get("business_mix") or {"default": 1.0}).items()}
    trunks: list[Trunk] = []
    sims: dict[str, SimTrunk] = {}
    for raw in doc.get("trunks") or []:
        got = _trunk(raw, inc, problems)
        if got is not None:
            trunks.append(got[0])
            sims[got[0].trunk_id] = got[1]
    events: list[TrunkEvent] = []
    for i, e in enumerate(doc.get("events") or []):
        kind = str(e.get("kind"))
        trunk = str(e.get("trunk", ""))
        if kind not in EVENT_KINDS:
            problems.append(ErrorDetail("scenario.unknown_event", f"unknown event kind {kind!r}", row=i, field="kind"))
            continue
        if kind != "caller_id_marked" and trunk not in sims:
            problems.append(ErrorDetail("scenario.unknown_trunk", f"event on unknown trunk {trunk!r}", row=i,
                                        field="trunk"))
            continue
        end = e.get("end_minute")
        ev = TrunkEvent(trunk, kind, float(e.get("start_minute", 0)) * 60.0,
                        None if end is None else float(end) * 60.0, float(e.get("rate", 0.6)),
                        float(e.get("answer_factor_multiplier", 0.5)), int(e.get("capacity", 0)),
                        None if e.get("number") is None else str(e.get("number")))
        events.append(ev)
        if trunk in sims:
            sims[trunk].events.append(ev)
    for s in sims.values():
        try:
            s.validate()
        except ValidationError as err:
            problems.extend(err.details)
    for t in trunks:
        try:
            t.validate()
        except ValidationError as err:
            problems.extend(err.details)
    if not trunks:
        problems.append(ErrorDetail("scenario.no_trunks", "trunks must list at least one trunk", field="trunks"))
    cps = _num(doc, "offered_cps", 10, problems)
    if cps <= 0:
        problems.append(ErrorDetail("scenario.not_positive", "offered_cps must be > 0", field="offered_cps"))
    if problems:
        raise ValidationError("scenario.invalid", "invalid routing scenario", problems)
    return Scenario(
        name=str(doc.get("name", "scenario")), duration_minutes=_num(doc, "duration_minutes", 60, problems),
        offered_cps=cps, seed=int(_num(doc, "seed", 1, problems)),
        value_per_answer=_num(doc, "value_per_answer", 1.0, problems),
        line_loss_penalty=_num(doc, "line_loss_penalty", 0.2, problems),
        billing_increment_seconds=inc, talk_mean_seconds=_num(doc, "talk_mean_seconds", 90, problems),
        regions=regions, business_mix=mix, trunks=trunks, sim=sims, events=events,
        caller_ids=list(doc.get("caller_ids") or []),
        no_answer_seconds=_num(doc, "no_answer_seconds", 30, problems),
        ring_mean_seconds=_num(doc, "ring_mean_seconds", 8, problems),
        max_line_retries=int(_num(doc, "max_line_retries", 2, problems)))


def load(path: str | Path) -> Scenario:
    p = Path(path)
    try:
        doc = yaml.safe_load(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValidationError("scenario.not_found", f"no scenario file {p.name!r}") from None
    except yaml.YAMLError as err:
        raise ValidationError("scenario.bad_yaml", f"cannot read {p.name!r}: {err}") from None
    if not isinstance(doc, dict):
        raise ValidationError("scenario.bad_yaml", f"{p.name!r} is not a mapping")
    return parse(doc)
