"""The app's import screen: a column nobody classified is kept as personal data until the researcher confirms
(key c) that it does not identify anyone; only then is it imported as an attribute."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Button, DataTable, Input, Static

from survey_tui.cli import main
from survey_tui.core.fieldwork import respondents as resp
from survey_tui.core.store.sqlite import decode
from survey_tui.core.study import open_study
from survey_tui.tui.app import SurveyApp
from survey_tui.tui.screens.respondents import ImportScreen


def _kept_as(table: DataTable) -> dict[str, str]:
    return {str(table.get_row_at(i)[0]): str(table.get_row_at(i)[2]) for i in range(table.row_count)}


async def test_unclassified_columns_need_confirmation_before_they_become_attributes(tmp_path: Path) -> None:
    root = tmp_path / "study"
    assert main(["init", str(root), "--title", "Import", "--languages", "zh-TW,en"]) == 0
    contacts = tmp_path / "list.csv"
    contacts.write_text(
        "姓名,手機,會員等級,推薦人\n王小明,0912345678,金卡,陳大文\n李小華,0922333444,銀卡,林美玲\n", encoding="utf-8"
    )
    app = SurveyApp(open_study(root), keymap_file=tmp_path / "no-keymap.yaml")
    app.animation_level = "none"
    async with app.run_test(size=(140, 44)) as pilot:
        await app.workers.wait_for_complete()
        await app.switch_mode("respondents")
        await app.workers.wait_for_complete()
        await pilot.press("m")
        await pilot.wait_for_animation()
        screen = app.screen
        assert isinstance(screen, ImportScreen)
        screen.query_one("#import-path", Input).value = str(contacts)
        screen.query_one("#import-path", Input).focus()
        await pilot.press("enter")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        table = screen.query_one("#import-mapping", DataTable)
        kept = _kept_as(table)
        assert kept["姓名"] == kept["手機"] == "personal (protected)"
        assert kept["會員等級"].startswith("personal: unconfirmed") and kept["推薦人"].startswith("personal: unconf")
        report = str(screen.query_one("#import-report", Static).render())
        assert "2 column(s) not confirmed" in report and "會員等級" in report

        table.focus()
        table.move_cursor(row=list(screen.mapping).index("會員等級"))
        await pilot.press("c")  # the researcher confirms this one is not identifying
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        kept = _kept_as(screen.query_one("#import-mapping", DataTable))
        assert kept["會員等級"] == "attribute (confirmed)" and kept["推薦人"].startswith("personal: unconfirmed")
        assert not screen.query_one("#commit", Button).disabled
        await pilot.click("#commit")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert not isinstance(app.screen, ImportScreen)

    study = open_study(root)
    assert study.config.contact_fields["會員等級"] == "attribute"
    assert study.config.contact_fields["推薦人"] == "personal"
    with study.store() as store:
        attributes = [decode(r[0]) for r in store.query("SELECT attributes FROM respondents ORDER BY rowid")]
        contacts_held = resp.read_contacts(store, purpose="test")
    assert [a.get("會員等級") for a in attributes] == ["金卡", "銀卡"]
    assert all("推薦人" not in a for a in attributes)  # never an attribute without confirmation
    assert sorted(decode(p)["推薦人"] for p in contacts_held["personal"]) == ["林美玲", "陳大文"]
