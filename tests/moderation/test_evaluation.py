"""The default pack measured on the labelled sample (moderation/evaluation/), and the
evaluate_rules command that measures it (and dry-runs a moderator's draft rule).

The sample was written before the rules were tuned; holdout.tsv (a quarter) was not
looked at while tuning.  Targets (on the whole sample): crisis recall >= 97%, every
other kind >= 92%, benign false positives <= 2%, no crisis alert on a benign line.
"""

from functools import cache

import pytest
from django.core.management import call_command

from moderation import evaluation
from moderation.matcher import compile_rules

TARGETS = {"crisis": 0.97, "concern": 0.92, "sourcing": 0.92, "dosing": 0.92, "personal-info": 0.92, "harassment": 0.92}
MAX_BENIGN_FALSE_POSITIVES = 0.02


@cache
def report(*parts: str) -> evaluation.Report:
    messages = [m for part in parts for m in evaluation.read_messages(evaluation.SAMPLES[part])]
    return evaluation.evaluate(compile_rules(evaluation.pack_specs()), messages)


def test_the_sample_is_big_and_varied_enough():
    """At least 400 lines, 200 of them benign, every label present, a quarter held out."""
    whole = report("messages", "holdout")
    assert len(whole.outcomes) >= 400
    assert len(whole.of("benign")) >= 200
    assert all(whole.of(label) for label in evaluation.LABELS)
    held = len(report("holdout").outcomes) / len(whole.outcomes)
    assert 0.2 <= held <= 0.3


@pytest.mark.parametrize("label", list(TARGETS))
def test_recall_meets_its_target(label):
    """Recall per kind on the whole sample."""
    whole = report("messages", "holdout")
    misses = [o.message.text for o in whole.of(label) if not o.caught]
    assert whole.recall(label) >= TARGETS[label], misses


def test_benign_lines_are_left_alone():
    """Benign integration talk: false positives at most 2%, and never a crisis alert."""
    whole = report("messages", "holdout")
    assert whole.false_positive_rate <= MAX_BENIGN_FALSE_POSITIVES, [o.message.text for o in whole.false_positives]
    assert not whole.benign_crisis_alerts, [o.message.text for o in whole.benign_crisis_alerts]


def test_the_report_prints_figures_misses_and_false_positives():
    """format_report names recall per kind, the false-positive rate and every miss."""
    text = evaluation.format_report(report("messages"), {}, title="t")
    for label in evaluation.LABELS[:-1]:
        assert label in text
    assert "false positives" in text and "crisis alerts on benign lines" in text


def test_evaluate_rules_command_on_the_pack_with_a_draft_rule(capsys):
    """The command measures the shipped pack and shows what a draft rule would match,
    without writing anything (no database needed with --rules-from pack)."""
    call_command(
        "evaluate_rules",
        str(evaluation.SAMPLES["messages"]),
        "--rules-from",
        "pack",
        "--summary",
        "--draft-pattern",
        "zqx never written anywhere",
        "--draft-kind",
        "phrase",
        "--draft-category",
        "spam",
        "--draft-action",
        "flag",
    )
    out = capsys.readouterr().out
    assert "crisis" in out and "recall" in out
    assert "THE DRAFT RULE matched 0 message(s)" in out


def test_evaluate_rules_refuses_a_bad_draft():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="Back-references"):
        call_command(
            "evaluate_rules",
            str(evaluation.SAMPLES["messages"]),
            "--rules-from",
            "pack",
            "--draft-pattern",
            r"(a)\1",
            "--draft-kind",
            "regex",
        )


@pytest.mark.django_db
def test_evaluate_rules_command_reads_the_database_rules(capsys):
    """--rules-from db (the default) measures the rules as they are in the database."""
    from moderation.management.commands.load_rule_pack import load_pack

    load_pack()
    call_command("evaluate_rules", str(evaluation.SAMPLES["holdout"]), "--summary")
    out = capsys.readouterr().out
    assert "rules from db" in out and "crisis alerts on benign lines" in out
