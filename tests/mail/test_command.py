"""`manage.py ingest_email`: files, directories, mboxes, the summary line."""

from __future__ import annotations

import re
import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from bench.mail import mixed_messages
from tests.conftest import Personas
from tests.mail.conftest import MESSAGES, load
from tickets.mail.ahead import parsed_ahead
from tickets.mail.ingest import parse_all
from tickets.mail.intake import ingest_many
from tickets.mail.models import QuarantinedEmail
from tickets.models import Message, Ticket

pytestmark = pytest.mark.django_db
SUMMARY = re.compile(
    r"^(\d+) read, (\d+) new tickets, (\d+) added to tickets, (\d+) duplicates, (\d+) quarantined$"
)


def run(*args: str) -> list[str]:
    out = StringIO()
    call_command("ingest_email", *args, stdout=out)
    return out.getvalue().splitlines()


def summary(lines: list[str]) -> tuple[int, ...]:
    match = SUMMARY.match(lines[-1])
    assert match, lines[-1]
    return tuple(int(n) for n in match.groups())


def test_directory_of_messages_then_second_pass_changes_nothing(
    personas: Personas, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("plain.eml", "reply.eml", "no_headers.eml", "latin1_qp.eml"):
        shutil.copy(MESSAGES / name, folder / name.replace("latin1_qp.eml", "latin1.box"))
    lines = run(str(folder))
    assert summary(lines) == (4, 2, 1, 0, 1)
    plain = Ticket.objects.get(messages__message_id="plain-1@customer.test")
    assert f"{folder / 'plain.eml'}: new ticket #{plain.pk}" in lines
    assert any(line.startswith(f"{folder / 'no_headers.eml'}: quarantined: ") for line in lines)
    counts = (Ticket.objects.count(), Message.objects.count(), QuarantinedEmail.objects.count())
    assert summary(run(str(folder))) == (4, 0, 0, 4, 0)
    assert counts == (
        Ticket.objects.count(),
        Message.objects.count(),
        QuarantinedEmail.objects.count(),
    )


def test_mbox_is_split_and_mailbox_option_is_used(personas: Personas) -> None:
    lines = run("--mailbox", "B@tandem.test", str(MESSAGES / "two_messages.mbox"))
    assert summary(lines) == (2, 2, 0, 0, 0)
    assert set(Ticket.objects.values_list("mailbox__address", flat=True)) == {"b@tandem.test"}
    first = Message.objects.get(message_id="mbox-1@mbox.test")
    assert "From here on the line was quoted" in first.body_text


def test_unknown_mailbox_and_missing_path_are_clear_errors(personas: Personas) -> None:
    with pytest.raises(CommandError, match="No mailbox"):
        run("--mailbox", "nobody@tandem.test", str(MESSAGES / "plain.eml"))
    with pytest.raises(CommandError, match="No such file"):
        run("/nonexistent/path.eml")


def test_batches_parsed_in_a_second_process_are_those_parsed_here() -> None:
    """ingest_email parses batch n+1 in a forked process while it stores batch n."""
    raws = mixed_messages(240, "ahead", "a@tandem.test")
    batches = [[(f"m{n}", raw) for n, raw in enumerate(raws[i : i + 100])] for i in (0, 100, 200)]
    ahead = list(parsed_ahead(iter(batches)))
    assert [batch for batch, _ in ahead] == batches
    assert [parsed for _, parsed in ahead] == [parse_all([r for _, r in b]) for b in batches]
    # The quarantine reasons come back as well as the parsed messages.
    assert sum(isinstance(p, str) for _, parsed in ahead for p in parsed) == 12


def test_a_directory_of_several_batches_gets_the_outcomes_of_ingesting_it_here(
    personas: Personas, tmp_path: Path
) -> None:
    def folder(run_id: str) -> tuple[Path, list[bytes]]:
        raws = mixed_messages(230, run_id, "a@tandem.test")
        path = tmp_path / run_id
        path.mkdir()
        for n, raw in enumerate(raws):
            (path / f"{n:04d}.eml").write_bytes(raw)
        return path, raws

    _, here_raws = folder("here0001")
    here = [
        re.sub(r"#\d+", "#N", result.describe())
        for i in range(0, len(here_raws), 100)
        for result in ingest_many(here_raws[i : i + 100], source="command")
    ]
    command_path, _ = folder("cmd00001")
    lines = run(str(command_path))
    assert [re.sub(r"#\d+", "#N", line.split(": ", 1)[1]) for line in lines[:-1]] == here
    read, new, added, duplicates, quarantined = summary(lines)
    assert (read, duplicates) == (230, 0)
    assert new > 0 and added > 0 and quarantined > 0


def test_files_whose_names_say_they_are_no_mail_are_reported_not_silently_skipped(
    personas: Personas, tmp_path: Path
) -> None:
    (tmp_path / "a.eml").write_bytes(load("plain.eml"))
    (tmp_path / "invoice.pdf").write_bytes(b"%PDF-1.4")
    out, err = StringIO(), StringIO()
    call_command("ingest_email", str(tmp_path), stdout=out, stderr=err)
    assert "invoice.pdf: skipped" in err.getvalue()
    assert "1 read, 1 new tickets" in out.getvalue()
    assert "1 files skipped" in out.getvalue()
