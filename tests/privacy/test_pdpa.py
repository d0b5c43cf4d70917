"""PDPA on record: the Art. 8 notice on the consent screen with its version stored, data-subject requests with
Art. 13 due dates, the retention purge logged, and the privacy report that gathers the evidence."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from survey_tui.cli import main
from survey_tui.core.fieldwork import privacy as pdpa
from survey_tui.core.fieldwork import respondents as resp
from survey_tui.core.interview.capture import consent_wording_version
from survey_tui.core.store.sqlite import Store, StoreError
from survey_tui.core.study import open_study


@pytest.fixture
def study(demo_study_dir: Path, tmp_path: Path) -> Path:
    root = tmp_path / "study"
    shutil.copytree(demo_study_dir, root)
    return root


def test_the_demo_notice_is_complete_and_its_version_is_stored_with_consents(study: Path) -> None:
    config = open_study(study).config
    assert config.privacy_notice is not None
    lines = pdpa.notice_lines(config.privacy_notice, "zh-TW")
    assert len(lines) == len(pdpa.NOTICE_ITEMS) and all(line.split(": ", 1)[1] for line in lines)
    version = consent_wording_version(open_study(study))
    assert version.endswith("notice 2026-09")
    with Store(study / "survey.db") as store:
        versions = {r[0] for r in store.query("SELECT DISTINCT wording_version FROM consent_records")}
    assert versions == {version}


def test_requests_get_art_13_due_dates_and_outcomes(tmp_path: Path) -> None:
    with Store(tmp_path / "survey.db") as store:
        copy = pdpa.log_request(store, "R1", "copy", received_on=date(2026, 11, 1))
        deletion = pdpa.log_request(store, "R1", "deletion", received_on=date(2026, 11, 1))
        assert (copy.due_on, deletion.due_on) == ("2026-11-16", "2026-12-01")
        assert pdpa.close_request(store, copy.id, "done").outcome == "done"
        with pytest.raises(StoreError, match="unknown request kind"):
            pdpa.log_request(store, "R1", "forget-me")
        with pytest.raises(StoreError, match="no data-subject request"):
            pdpa.close_request(store, 99, "done")


def test_the_retention_purge_waits_for_the_date_then_erases_and_logs(study: Path) -> None:
    with Store(study / "survey.db") as store:
        held = store.query("SELECT COUNT(*) FROM respondent_contacts")[0][0]
        assert held > 0
        assert pdpa.purge_expired(store, date(2027, 6, 30), today=date(2027, 6, 30)) == 0
        assert pdpa.purge_expired(store, date(2027, 6, 30), today=date(2027, 7, 1), actor="dpo") == held
        assert store.query("SELECT COUNT(*) FROM respondent_contacts")[0][0] == 0
        assert [tuple(r) for r in store.query("SELECT contacts_erased, actor FROM retention_purges")] == [(held, "dpo")]


def test_the_privacy_report_lists_notice_consents_requests_and_erasures(
    study: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with Store(study / "survey.db") as store:
        rid = store.query("SELECT id FROM respondents WHERE status != 'withdrawn' LIMIT 1")[0][0]
        erased = [r[0] for r in store.query("SELECT respondent_id FROM erasure_log")]
        phones = resp.read_contacts(store, purpose="test: the report must not hold them")["phone"].drop_nulls()
        contacts = [(p,) for p in phones.head(50).to_list()]
    assert contacts and erased, "the demo has withdrawals"
    assert main(["privacy", "request", rid, "inquiry", "--study", str(study), "--received", "2026-11-20"]) == 0
    assert "due 2026-12-05" in capsys.readouterr().out
    assert main(["privacy", "request", "NO-SUCH", "copy", "--study", str(study)]) == 1
    assert main(["privacy", "report", "--study", str(study)]) == 0
    text = (study / "exports" / "privacy_report.md").read_text(encoding="utf-8")
    assert "Version: 2026-09" in text and "蒐集目的" in text
    assert "notice 2026-09" in text  # consents counted by the version shown
    assert f"| {rid} | inquiry | 2026-11-20 | 2026-12-05" in text
    assert all(r in text for r in erased)
    assert "fieldwork supervisor" in text
    assert not any(phone[0] in text for phone in contacts)  # evidence, not contact data


def test_the_consent_screen_text_carries_the_notice_items(study: Path) -> None:
    from survey_tui.core.interview.capture import start_session

    session = start_session(open_study(study), mode="test", interviewer="tester", language="en")
    try:
        text = session.consent_text()
    finally:
        session.close()
    assert "Do you agree to take part?" in text
    for _, heading in pdpa.NOTICE_ITEMS:
        assert heading["en"] + ": " in text
    assert "privacy@teatime.example.tw" in text


def test_the_report_names_personal_fields_the_notice_does_not_mention(
    study: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "list.csv"
    source.write_text(
        "姓名,手機,Email,身分證字號,LINE ID\n諸葛孔明,0987654321,kongming@example.tw,A123456789,kongming_line\n",
        encoding="utf-8",
    )
    capsys.readouterr()
    assert main(["respondents", "import", str(source), "--study", str(study)]) == 0
    note = capsys.readouterr().err
    assert "do not seem to name 身分證字號, LINE ID;" in note and "A123456789" not in note  # said at the import
    assert main(["privacy", "report", "--study", str(study)]) == 0
    text = (study / "exports" / "privacy_report.md").read_text(encoding="utf-8")
    section = text.split("## Personal fields held", 1)[1].split("\n## ", 1)[0]
    # the demo's notice names 姓名、聯絡電話、電子郵件: the national id and LINE id were never announced
    assert "| 姓名 | name | yes |" in section and "| 手機 | phone | yes |" in section
    assert "| Email | email | yes |" in section
    assert "| 身分證字號 | personal | NOT FOUND |" in section and "| LINE ID | personal | NOT FOUND |" in section
    assert "do not seem to name: 身分證字號, LINE ID" in section
    assert "A123456789" not in text and "kongming" not in text and "0987654321" not in text
    key = text.split("## Contact key", 1)[1]
    with Store(study / "survey.db") as store:
        study_key, _fingerprint = resp.contact_key_info(store)  # type: ignore[misc]
    assert f"Key {study_key}" in key and f"{study_key}.key" in key  # where it is read from, never the key
