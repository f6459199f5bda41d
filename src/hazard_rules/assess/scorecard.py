"""Scorecards (督查考核) and the 晾晒 ranking: per subject and assessment period, the obligations
judged and met, the findings, the major hazards, and the 一票否优 verdict with its reasons.

What counts where (docs/assessment.md):

* **Obligations** — each deadline and each required period of a recurring rule (from
  :mod:`hazard_rules.engine.windows`), each record a check judges (its due date, or whether
  its requirement holds), and each subject a trend binds. One belongs to the assessment period
  that contains its period's start (a period no longer than the assessment period: the 2025-Q4
  statistics, due 2026-01-15, belong to 2025), else its due date, else its record's own date;
  an undated one belongs to the period assessed. It is *judged* once its due date is before
  as_of, and is then *met* (on time), *late* or *missing*; a waived one is counted apart.
* **Findings** — the result's violations by status and severity, attributed the same way.
* **Major hazards** — hazards recorded major or proved major by a criterion, found in the
  period: rectified on time, rectified late, overdue (not rectified, deadline passed), open.
* **Score** — the on-time rate of the judged obligations weighted by severity
  (``assessment.weights``), as a percentage: Σ w·met / Σ w·judged × 100.
* **一票否优** — any finding of the period, not waived, that a ``veto`` entry of the pack's
  ``assessment`` matches; the reasons list those findings (doubtful ones are marked).

Subjects are the pack's subject type (enterprises); obligations and findings of other
subjects (a site) count for the subject they belong to (the site's enterprise).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from hazard_rules.assess.config import DEFAULT_WEIGHTS, Assessment
from hazard_rules.backends.python import compile_condition
from hazard_rules.engine.compile import CompiledPack, compile_pack
from hazard_rules.engine.judging import active_span, check_due, exists, subject_of
from hazard_rules.engine.windows import RuleWindows
from hazard_rules.facts.collect import FactSet
from hazard_rules.ir import Check, Deadline, Recurring, Trend
from hazard_rules.packs import PackSet
from hazard_rules.periods import EVERY, Period, date_of, parse_period, period_of
from hazard_rules.results import (
    Assessed,
    CalendarRow,
    MajorHazards,
    Obligations,
    RankEntry,
    RecordRef,
    Result,
    Scorecard,
    VetoReason,
)

__all__ = ["assess_result", "assessed_period", "previous_period"]

_MONTHS = {"month": 1, "quarter": 3, "half_year": 6, "year": 12}


def assessed_period(period: str | None, as_of: date, default: str = "year") -> Period:
    """The period to assess: a label (``2025``, ``2025-Q4``, ``2025-12``), or a kind
    (``year`` …; default ``default``) meaning the last such period ended before ``as_of``."""
    text = period or default
    if text in EVERY:
        p = period_of(as_of, text)
        while not p.end < as_of:
            p = previous_period(p)
        return p
    return parse_period(text)


def previous_period(p: Period) -> Period:
    """The period before ``p``, of the same kind."""
    if p.index > 1:
        return Period(p.every, p.year, p.index - 1)
    return Period(p.every, p.year - 1, 12 // _MONTHS[p.every])


@dataclass
class _Tally:
    """What is being counted for one subject and period."""

    obligations: dict[str, Obligations]
    findings: dict[str, dict[str, int]]
    vetoes: list[VetoReason]
    misclassified: int = 0
    doubtful: int = 0
    waived: int = 0


class _Scorer:
    def __init__(
        self, packs: PackSet, facts: FactSet, result: Result, as_of: date, assessed: Period
    ) -> None:
        self.packs = packs
        self.compiled: CompiledPack = compile_pack(packs)
        self.schema = packs.schema
        self.idx = facts.records
        self.result = result
        self.as_of = as_of
        self.assessed = assessed
        self.settings = packs.assessment or Assessment(pack="", period=assessed.every)
        self.weights = dict(DEFAULT_WEIGHTS) | dict(self.settings.weights)
        self.subject_type = packs.subject
        self.metas = {r.meta.id: r.meta for r in packs.rules}
        self.rules = {r.meta.id: r for r in packs.rules}
        # the waived findings, by what they are about
        self.waived: set[tuple[str, str, str | None, str | None]] = {
            (v.rule, v.subject.id, v.period, v.record.id if v.record else None)
            for v in result.violations
            if v.waiver is not None
        }
        self.veto_where = {
            id(v): compile_condition(v.where) for v in self.settings.veto if v.where is not None
        }

    # -- attribution -------------------------------------------------------------------------

    def owner(self, tname: str, rid: str) -> str | None:
        """The id of the subject (enterprise) a record or a subject of another type counts for."""
        if tname == self.subject_type:
            return rid
        rec = self.idx.get(tname, {}).get(rid)
        if rec is None:
            return None
        stype, sid = subject_of(self.schema, self.subject_type, tname, rec)
        return sid if stype == self.subject_type else None

    def belongs(
        self, period: Period, label: Period | None, due: date | None, own: date | None
    ) -> bool:
        if label is not None and _MONTHS[label.every] <= _MONTHS[period.every]:
            return period.contains(label.start)
        if due is not None:
            return period.contains(due)
        if own is not None:
            return period.contains(own)
        return period == self.assessed

    def own_date(self, ref: RecordRef | None) -> date | None:
        if ref is None:
            return None
        df = self.schema.types[ref.type].date_field if ref.type in self.schema.types else None
        rec = self.idx.get(ref.type, {}).get(ref.id)
        return date_of(rec.get(df)) if df and rec is not None else None

    # -- scorecards --------------------------------------------------------------------------

    def scorecards(self, period: Period) -> list[Scorecard]:
        tallies: dict[str, _Tally] = {}
        subjects = [
            r
            for r in self.idx.get(self.subject_type, {}).values()
            if exists(self.schema, self.subject_type, r, self.as_of) and self._active(r, period)
        ]
        for s in subjects:
            tallies[s["id"]] = _Tally({}, {}, [])
        self._timed(period, tallies)
        self._checks(period, tallies)
        self._findings(period, tallies)
        cards = []
        for s in subjects:
            t = tallies[s["id"]]
            cards.append(self._card(s, period, t))
        return cards

    def _active(self, subject: Mapping[str, Any], period: Period) -> bool:
        a_from, a_until = active_span(self.schema, self.subject_type, subject)
        return (a_from is None or a_from <= period.end) and (
            a_until is None or a_until >= period.start
        )

    def _obligations(self, tally: _Tally, rule_id: str) -> Obligations:
        got = tally.obligations.get(rule_id)
        if got is None:
            m = self.metas[rule_id]
            got = tally.obligations[rule_id] = Obligations(
                rule=rule_id,
                title=m.title,
                kind=m.kind,
                severity=m.severity,  # type: ignore[arg-type]
            )
        return got

    def _count(self, tally: _Tally, rule_id: str, outcome: str) -> None:
        ob = self._obligations(tally, rule_id)
        update = {outcome: getattr(ob, outcome) + 1}
        if outcome in ("met", "late", "missing"):
            update["judged"] = ob.judged + 1
        tally.obligations[rule_id] = ob.model_copy(update=update)

    def _timed(self, period: Period, tallies: dict[str, _Tally]) -> None:
        far = max(self.as_of, period.end)
        for cr in self.compiled.timed:
            rule = cr.rule
            if isinstance(rule, (Deadline, Recurring)):
                rw = RuleWindows(cr, self.idx, self.schema, self.as_of)
                for subj in rw.subjects():
                    owner = self.owner(rule.subject.type, subj["id"])
                    tally = tallies.get(owner or "")
                    if tally is None:
                        continue
                    until = date(min(far.year + 1, 9998), 12, 31)
                    for w in rw.windows(subj, due_until=until):
                        if not self.belongs(period, w.period, w.due, None):
                            continue
                        label = w.period.label if w.period is not None else None
                        if (rule.meta.id, subj["id"], label, None) in self.waived:
                            self._count(tally, rule.meta.id, "waived")
                        else:
                            self._count(tally, rule.meta.id, w.status)
            elif isinstance(rule, Trend):
                later = max(rule.period, rule.to, key=lambda p: p.end)
                if not self.belongs(period, later, later.end, None):
                    continue
                exceeded = {
                    v.subject.id
                    for v in self.result.violations
                    if v.rule == rule.meta.id and v.status in ("exceeded", "waived")
                }
                pred = cr.preds["subject"]
                for subj in self.idx.get(rule.subject.type, {}).values():
                    if not exists(self.schema, rule.subject.type, subj, self.as_of):
                        continue
                    if not pred(subj, self.idx):
                        continue
                    a_from, a_until = active_span(self.schema, rule.subject.type, subj)
                    span = (min(rule.period.start, rule.to.start), later.end)
                    if (a_from is not None and a_from > span[0]) or (
                        a_until is not None and a_until < span[1]
                    ):
                        continue
                    tally = tallies.get(self.owner(rule.subject.type, subj["id"]) or "")
                    if tally is None:
                        continue
                    if not later.end < self.as_of:
                        self._count(tally, rule.meta.id, "pending")
                    elif (rule.meta.id, subj["id"], later.label, None) in self.waived:
                        self._count(tally, rule.meta.id, "waived")
                    else:
                        self._count(
                            tally, rule.meta.id, "missing" if subj["id"] in exceeded else "met"
                        )

    def _checks(self, period: Period, tallies: dict[str, _Tally]) -> None:
        failed = {
            (v.rule, v.record.id)
            for v in self.result.violations
            if v.kind == "check" and v.record is not None and v.status == "failed"
        }
        for tname, rules in self.compiled.by_type.items():
            checks = [cr for cr in rules if isinstance(cr.rule, Check)]
            if not checks:
                continue
            df = self.schema.types[tname].date_field
            for rec in self.idx.get(tname, {}).values():
                if not exists(self.schema, tname, rec, self.as_of):
                    continue
                own = date_of(rec.get(df)) if df else None
                owner = self.owner(tname, rec["id"])
                tally = tallies.get(owner or "")
                if tally is None:
                    continue
                for cr in checks:
                    rule = cr.rule
                    assert isinstance(rule, Check)
                    if not cr.preds["where"](rec, self.idx):
                        continue
                    key = (rule.meta.id, self._subject_id(tname, rec), None, rec["id"])
                    if rule.due is not None and rule.done is not None:
                        due = check_due(rule, rec)
                        if due is None or not rule.meta.in_effect(due):
                            continue
                        if not self.belongs(period, None, due, own):
                            continue
                        if key in self.waived:
                            self._count(tally, rule.meta.id, "waived")
                            continue
                        done = date_of(rec.get(rule.done))
                        if done is not None and done > self.as_of:
                            done = None
                        if done is not None and done <= due:
                            self._count(tally, rule.meta.id, "met")
                        elif not due < self.as_of:
                            self._count(tally, rule.meta.id, "late" if done else "pending")
                        else:
                            self._count(tally, rule.meta.id, "late" if done else "missing")
                    elif rule.require is not None:
                        if own is not None and not rule.meta.in_effect(own):
                            continue
                        if not self.belongs(period, None, None, own):
                            continue
                        if key in self.waived:
                            self._count(tally, rule.meta.id, "waived")
                        elif (rule.meta.id, rec["id"]) in failed:
                            self._count(tally, rule.meta.id, "missing")
                        else:
                            self._count(tally, rule.meta.id, "met")

    def _subject_id(self, tname: str, rec: Mapping[str, Any]) -> str:
        return subject_of(self.schema, self.subject_type, tname, rec)[1]

    def _findings(self, period: Period, tallies: dict[str, _Tally]) -> None:
        for v in self.result.violations:
            label = parse_period(v.period) if v.period else None
            if not self.belongs(period, label, v.due, self.own_date(v.record)):
                continue
            tally = tallies.get(self.owner(v.subject.type, v.subject.id) or "")
            if tally is None:
                continue
            by_sev = tally.findings.setdefault(v.status, {})
            by_sev[v.severity] = by_sev.get(v.severity, 0) + 1
            if v.waiver is not None:
                tally.waived += 1
                continue
            if v.doubtful:
                tally.doubtful += 1
            if v.status == "misclassified":
                tally.misclassified += 1
            for veto in self.settings.veto:
                if not veto.applies(v.rule, v.status, v.severity):
                    continue
                where = self.veto_where.get(id(veto))
                if where is not None:
                    rec = self.idx.get(v.record.type, {}).get(v.record.id) if v.record else None
                    if rec is None or not where(rec, self.idx):
                        continue
                tally.vetoes.append(
                    VetoReason(
                        veto=veto.name,
                        cite=veto.cite,
                        rule=v.rule,
                        status=v.status,
                        period=v.period,
                        due=v.due,
                        record=v.record,
                        doubtful=v.doubtful,
                    )
                )

    def _major_hazards(self, subject_id: str, period: Period) -> MajorHazards:
        if "hazard" not in self.schema.types:
            return MajorHazards()
        proved = {
            c.record.id
            for c in self.result.classifications
            if c.record.type == "hazard" and c.label == "major"
        }
        out = MajorHazards()
        counts = dict(out.model_dump())
        for rec in self.idx.get("hazard", {}).values():
            if self.owner("hazard", rec["id"]) != subject_id:
                continue
            found = date_of(rec.get("discovered_on"))
            if found is None or found > self.as_of or not period.contains(found):
                continue
            if rec.get("level") != "major" and rec["id"] not in proved:
                continue
            counts["found"] += 1
            by = date_of(rec.get("rectify_by"))
            done = date_of(rec.get("rectified_on"))
            if done is not None and done > self.as_of:
                done = None
            if done is not None:
                counts[
                    "rectified_late" if by is not None and done > by else "rectified_on_time"
                ] += 1
            else:
                counts["open"] += 1
                if by is not None and by < self.as_of:
                    counts["overdue"] += 1
        return MajorHazards(**counts)

    def _card(self, subject: Mapping[str, Any], period: Period, t: _Tally) -> Scorecard:
        obligations = sorted(t.obligations.values(), key=lambda o: o.rule)
        judged = sum(o.judged for o in obligations)
        met = sum(o.met for o in obligations)
        wjudged = sum(self.weights.get(o.severity, 1.0) * o.judged for o in obligations)
        wmet = sum(self.weights.get(o.severity, 1.0) * o.met for o in obligations)
        name = subject.get("name")
        return Scorecard(
            subject=RecordRef(type=self.subject_type, id=subject["id"]),
            name=str(name) if name is not None else None,
            period=period.label,
            obligations=obligations,
            findings={k: dict(sorted(v.items())) for k, v in sorted(t.findings.items())},
            major_hazards=self._major_hazards(subject["id"], period),
            misclassified=t.misclassified,
            doubtful=t.doubtful,
            waived=t.waived,
            judged=judged,
            met=met,
            on_time_rate=round(met / judged, 4) if judged else None,
            score=round(100 * wmet / wjudged, 1) if wjudged else None,
            vetoed=bool(t.vetoes),
            veto_reasons=t.vetoes,
        )


def _calendar(scorer: _Scorer, until: Period) -> list[CalendarRow]:
    """Every recurring obligation's periods up to the end of ``until`` with their status."""
    rows: list[CalendarRow] = []
    for cr in scorer.compiled.timed:
        rule = cr.rule
        if not isinstance(rule, Recurring):
            continue
        rw = RuleWindows(cr, scorer.idx, scorer.schema, scorer.as_of)
        for subj in rw.subjects():
            cells: dict[str, str] = {}
            every = rw.schedule(subj).every or rule.every
            for w in rw.windows(subj, due_until=date(min(until.end.year + 1, 9998), 12, 31)):
                if w.period is None or w.period.start > until.end:
                    continue
                label = w.period.label
                waived = (rule.meta.id, subj["id"], label, None) in scorer.waived
                cells[label] = "waived" if waived else w.status
            if cells:
                rows.append(
                    CalendarRow(
                        subject=RecordRef(type=rule.subject.type, id=subj["id"]),
                        owner=scorer.owner(rule.subject.type, subj["id"]),
                        rule=rule.meta.id,
                        title=rule.meta.title,
                        every=every,
                        cells=cells,
                    )
                )
    rows.sort(key=lambda r: (r.owner or "", r.subject.type, r.subject.id, r.rule))
    return rows


def _ranking(cards: Iterable[Scorecard], before: Iterable[Scorecard]) -> list[RankEntry]:
    def order(cs: Iterable[Scorecard]) -> tuple[list[Scorecard], dict[str, int]]:
        ranked = sorted(
            (c for c in cs if not c.vetoed),
            key=lambda c: (-(c.score if c.score is not None else -1.0), c.subject.id),
        )
        ranks: dict[str, int] = {}
        last: tuple[float | None, int] | None = None
        for i, c in enumerate(ranked, 1):
            rank = last[1] if last is not None and last[0] == c.score else i
            ranks[c.subject.id] = rank
            last = (c.score, rank)
        return ranked, ranks

    ranked, ranks = order(cards)
    prev_cards = {c.subject.id: c for c in before}
    _, prev_ranks = order(prev_cards.values())
    out = []
    all_cards = [*ranked, *sorted((c for c in cards if c.vetoed), key=lambda c: c.subject.id)]
    for c in all_cards:
        p = prev_cards.get(c.subject.id)
        rank = ranks.get(c.subject.id)
        prank = prev_ranks.get(c.subject.id)
        change = (
            round(c.score - p.score, 1)
            if p is not None and c.score is not None and p.score is not None
            else None
        )
        out.append(
            RankEntry(
                rank=rank,
                subject=c.subject,
                name=c.name,
                score=c.score,
                vetoed=c.vetoed,
                previous_rank=prank,
                previous_score=p.score if p is not None else None,
                score_change=change,
                rank_change=prank - rank if prank is not None and rank is not None else None,
            )
        )
    return out


def assess_result(
    packs: PackSet,
    facts: FactSet,
    result: Result,
    as_of: date,
    period: str | None = None,
) -> Assessed:
    """Scorecards of every subject for the assessed period and the one before it, and the
    ranking (see the module docstring). ``facts`` must hold whole records (``load_facts``);
    ``result`` is the evaluation of those facts as of ``as_of`` (its violations as models)."""
    default = packs.assessment.period if packs.assessment is not None else "year"
    assessed = assessed_period(period, as_of, default)
    before = previous_period(assessed)
    scorer = _Scorer(packs, facts, result, as_of, assessed)
    cards = scorer.scorecards(assessed)
    prev = scorer.scorecards(before) if before.year >= 1900 else []
    calendar = _calendar(scorer, assessed)
    names: dict[str, str] = {}
    owners: dict[str, str] = {}
    refs = {(v.subject.type, v.subject.id) for v in result.violations}
    refs |= {(v.record.type, v.record.id) for v in result.violations if v.record}
    refs |= {(r.subject.type, r.subject.id) for r in calendar}
    refs |= {(scorer.subject_type, c.subject.id) for c in cards}
    for c in result.classifications:
        refs |= {(c.record.type, c.record.id), (c.subject.type, c.subject.id)}
    for k in result.candidates:
        refs |= {(k.record.type, k.record.id), (k.subject.type, k.subject.id)}
    refs |= {(r.type, r.id) for r in result.unmapped or ()}
    for tname, rid in sorted(refs):
        rec = facts.records.get(tname, {}).get(rid)
        shown = rec.get("name") or rec.get("description") if rec is not None else None
        if shown is not None:
            text = str(shown)
            names[f"{tname}:{rid}"] = text if len(text) <= 80 else text[:79] + "…"
        owner = scorer.owner(tname, rid)
        if tname != scorer.subject_type and owner is not None:
            owners[f"{tname}:{rid}"] = owner
    return Assessed(
        period=assessed.label,
        previous=before.label if prev is not None else None,
        scorecards=cards,
        previous_scorecards=prev,
        ranking=_ranking(cards, prev),
        calendar=calendar,
        names=names,
        owners=owners,
    )
