"""Measuring keyword rules against labelled messages.

``messages.tsv`` and ``holdout.tsv`` here are a labelled sample written for the
default pack (``label<TAB>text``; labels: crisis, concern, sourcing, dosing,
personal-info, harassment, benign), written before the rules were tuned and
independently of them; ``holdout.tsv`` (a quarter) was kept out of sight
while tuning.  ``manage.py evaluate_rules`` and tests/moderation/test_evaluation.py
run it.

A message counts as caught exactly as screening decides (``matcher.decide``):

| label         | caught when |
| ------------- | ----------- |
| crisis        | the decision's care tier is crisis |
| concern       | its care tier is concern or crisis (a crisis there is counted as over-escalated) |
| sourcing      | a sourcing rule acts on it |
| dosing        | a medical-advice rule acts on it |
| personal-info | a personal-info rule acts on it |
| harassment    | a harassment rule acts on it |
| benign        | nothing acts on it (any acting hit is a false positive; a crisis is a false alarm) |

Pure: no Django; the command turns database rows into ``RuleSpec``s.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from moderation.matcher import CompiledRules, Hit, RuleSpec, decide

HERE = Path(__file__).resolve().parent
SAMPLES = {"messages": HERE / "messages.tsv", "holdout": HERE / "holdout.tsv"}
LABELS = ("crisis", "concern", "sourcing", "dosing", "personal-info", "harassment", "benign")
CATEGORY_OF = {
    "sourcing": "sourcing",
    "dosing": "medical-advice",
    "personal-info": "personal-info",
    "harassment": "harassment",
}


@dataclass(frozen=True)
class Message:
    label: str
    text: str
    source: str  # "file:line"


def pack_specs(name: str = "default") -> list[RuleSpec]:
    """A shipped pack's enabled rules as the matcher sees them (ids 1..n, in pack order)."""
    from moderation import rulepack  # pure: reads the JSON file

    return [
        RuleSpec(
            n,
            e["pattern"],
            e["kind"],
            e["category"],
            e["action"],
            tuple(e.get("exempt", ())),
            shadow=e.get("shadow", False),
        )
        for n, e in enumerate(rulepack.read_pack(name)["rules"], start=1)
        if e.get("enabled", True)
    ]


def read_messages(path: Path | str) -> list[Message]:
    path = Path(path)
    out = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        label, sep, text = line.partition("\t")
        if not sep or label not in LABELS:
            raise ValueError(f"{path.name}:{number}: expected 'label<TAB>text' with a label from {LABELS}")
        out.append(Message(label, text, f"{path.name}:{number}"))
    return out


@dataclass
class Outcome:
    message: Message
    caught: bool
    hits: tuple[Hit, ...]
    care: str | None


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)

    def of(self, label: str) -> list[Outcome]:
        return [o for o in self.outcomes if o.message.label == label]

    def recall(self, label: str) -> float:
        items = self.of(label)
        return sum(o.caught for o in items) / len(items) if items else 1.0

    @property
    def false_positive_rate(self) -> float:
        benign = self.of("benign")
        return sum(not o.caught for o in benign) / len(benign) if benign else 0.0

    @property
    def benign_crisis_alerts(self) -> list[Outcome]:
        return [o for o in self.of("benign") if o.care == "crisis"]

    @property
    def misses(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.message.label != "benign" and not o.caught]

    @property
    def false_positives(self) -> list[Outcome]:
        return [o for o in self.of("benign") if not o.caught]

    @property
    def over_escalated(self) -> list[Outcome]:
        return [o for o in self.of("concern") if o.care == "crisis"]


def judge(message: Message, hits: Sequence[Hit]) -> Outcome:
    decision = decide(hits)
    label = message.label
    if label == "crisis":
        caught = decision.care == "crisis"
    elif label == "concern":
        caught = decision.care in ("concern", "crisis")
    elif label == "benign":
        caught = not decision.acts  # for benign lines "caught" means "left alone"
    else:
        caught = any(h.category == CATEGORY_OF[label] for h in decision.hits) and decision.acts
    return Outcome(message, caught, decision.hits, decision.care)


def evaluate(compiled: CompiledRules, messages: Iterable[Message], circle_id: int | None = None) -> Report:
    report = Report()
    for message in messages:
        report.outcomes.append(judge(message, compiled.match(message.text, circle_id)))
    return report


def format_report(report: Report, rules: dict[int, RuleSpec], *, title: str = "", details: bool = True) -> str:
    def describe(hit: Hit) -> str:
        spec = rules.get(hit.rule_id)
        name = f"rule {hit.rule_id}" if hit.rule_id > 0 else "DRAFT rule"
        pattern = f" {spec.kind} {spec.pattern!r}" if spec else ""
        return f"{name}{pattern} -> {hit.action} ({hit.category}) on {hit.matched!r}"

    lines = [title] if title else []
    lines.append(f"{'label':<14}{'caught':>8}{'of':>5}{'recall':>9}")
    for label in LABELS[:-1]:
        items = report.of(label)
        if items:
            lines.append(f"{label:<14}{sum(o.caught for o in items):>8}{len(items):>5}{report.recall(label):>9.1%}")
    benign = report.of("benign")
    fp = report.false_positives
    lines.append(f"{'benign':<14}{len(fp):>8}{len(benign):>5}{report.false_positive_rate:>9.1%}  false positives")
    alerts = report.benign_crisis_alerts
    lines.append(f"crisis alerts on benign lines: {len(alerts)}" + (" (none)" if not alerts else ""))
    if report.of("concern"):
        lines.append(f"concern lines raised as crisis (over-escalated, still caught): {len(report.over_escalated)}")
    if details:
        if report.misses:
            lines.append("\nMISSES")
            for o in report.misses:
                fired = "; ".join(describe(h) for h in o.hits) or "no rule"
                lines.append(f"  [{o.message.label}] {o.message.text!r}  ({o.message.source}; {fired})")
        if fp:
            lines.append("\nFALSE POSITIVES")
            for o in fp:
                lines.append(f"  {o.message.text!r}  ({o.message.source})")
                for h in o.hits:
                    lines.append(f"      {describe(h)}")
    return "\n".join(lines)
