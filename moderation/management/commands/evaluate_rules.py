"""Measure keyword rules against labelled messages, or dry-run a draft rule.

    manage.py evaluate_rules moderation/evaluation/messages.tsv
    manage.py evaluate_rules FILE --rules-from pack          # the shipped pack, not the database
    manage.py evaluate_rules FILE --draft-pattern "sell my lozenges" --draft-kind phrase \\
        --draft-category sourcing --draft-action hold       # plus one uncommitted rule

Prints recall per label, the benign false-positive rate, whether any benign
line raised a crisis alert, every miss and every false positive with the rule
that fired.  Verdicts are computed exactly as screening computes them: the same
compiled matcher and ``matcher.decide``.  Nothing is written.
FILE is ``label<TAB>text`` per line (see moderation/evaluation/__init__.py).
"""

from django.core.management.base import BaseCommand, CommandError

from moderation import evaluation
from moderation.matcher import ACTIONS, CATEGORIES, KINDS, PatternError, RuleSpec, compile_rules, validate
from moderation.models import KeywordRule

DRAFT_ID = -1


def db_specs() -> list[RuleSpec]:
    return [
        RuleSpec(r.pk, r.pattern, r.kind, r.category, r.action, r.exempt_phrases, r.circle_id, r.shadow)
        for r in KeywordRule.objects.filter(enabled=True)
    ]


class Command(BaseCommand):
    help = "Measure keyword rules on labelled messages (recall, false positives), or dry-run a draft rule."

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", help="label<TAB>text files")
        parser.add_argument("--rules-from", choices=("db", "pack"), default="db")
        parser.add_argument("--pack", default="default")
        parser.add_argument("--circle", type=int, default=None, help="also apply this circle's rules")
        parser.add_argument("--draft-pattern", help="add one uncommitted rule with this pattern")
        parser.add_argument("--draft-kind", choices=KINDS, default="phrase")
        parser.add_argument("--draft-category", choices=CATEGORIES, default="crisis")
        parser.add_argument("--draft-action", choices=ACTIONS, default="flag")
        parser.add_argument("--draft-exempt", action="append", default=[], help="an exempt phrase (repeatable)")
        parser.add_argument("--summary", action="store_true", help="figures only, no list of misses")

    def handle(self, *args, **options):
        specs = evaluation.pack_specs(options["pack"]) if options["rules_from"] == "pack" else db_specs()
        draft = None
        if options["draft_pattern"]:
            try:
                validate(options["draft_kind"], options["draft_pattern"])
            except PatternError as err:
                raise CommandError(f"The draft rule cannot be used: {err}") from None
            draft = RuleSpec(
                DRAFT_ID,
                options["draft_pattern"],
                options["draft_kind"],
                options["draft_category"],
                options["draft_action"],
                tuple(options["draft_exempt"]),
            )
            specs.append(draft)
        compiled = compile_rules(specs, on_error="skip")
        for rule_id, problem in compiled.skipped:
            self.stderr.write(f"rule {rule_id} skipped: {problem}")
        rules = {spec.id: spec for spec in specs}
        for path in options["files"]:
            try:
                messages = evaluation.read_messages(path)
            except (OSError, ValueError) as err:
                raise CommandError(str(err)) from None
            report = evaluation.evaluate(compiled, messages, options["circle"])
            title = f"== {path}: {len(messages)} messages, rules from {options['rules_from']}" + (
                " + a draft rule" if draft else ""
            )
            self.stdout.write(evaluation.format_report(report, rules, title=title, details=not options["summary"]))
            if draft:
                hit = [o for o in report.outcomes if any(h.rule_id == DRAFT_ID for h in o.hits)]
                self.stdout.write(f"\nTHE DRAFT RULE matched {len(hit)} message(s):")
                for o in hit:
                    self.stdout.write(f"  [{o.message.label}] {o.message.text!r}")
            self.stdout.write("")
