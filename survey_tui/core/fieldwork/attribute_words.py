"""How a respondent attribute reads on screen: its label and its values' choice labels, in the study language.

A contact list brings attributes under internal names (`gender`, `age`, `region`) with codes as values;
the study already says what they mean, so the detail pane need not show `gender: 2`. An attribute is tied
to a question of the instrument by, in this order: a question of the same name; the question a quota
level reads it with (`coalesce(s3, gender)`: the screener answer, else the attribute); a question whose
choice list has the attribute's name. Its label is then a variable banner's label in study.yaml (short,
written for tables: `性別 gender`), else that question's label, else the name itself; a value is the
question's choice label for that code, else the value as stored.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from survey_tui.core.instrument.model import Instrument, Question, label_text

_COALESCE = re.compile(r"coalesce\(\s*([A-Za-z_]\w*)\s*,\s*([A-Za-z_]\w*)\s*\)")


class AttributeWords:
    """Labels for attribute names and their coded values, worked out once per name (a screen builds one
    when it opens, off the UI thread: the instruments are parsed for it, and reads it per respondent).
    `config` is the StudyConfig, read with getattr so a study without quotas or a plan still works."""

    def __init__(self, instruments: Iterable[Instrument], config: object, language: str) -> None:
        self.instruments = list(instruments)
        self.language = language
        self.quota_links = _quota_links(getattr(config, "quotas", None) or ())
        plan = getattr(config, "analysis_plan", None)
        self.banners = [b for b in getattr(plan, "banners", None) or () if b.label and b.variable]
        self._words: dict[str, tuple[str, dict[str, str]]] = {}

    def label(self, name: str) -> str:
        return self._resolve(name)[0]

    def value(self, name: str, value: object) -> str | None:
        """The choice label of a coded value, None when the attribute has no choice for it."""
        if isinstance(value, bool) or not isinstance(value, int | str):
            return None
        return self._resolve(name)[1].get(str(value).strip())

    def _resolve(self, name: str) -> tuple[str, dict[str, str]]:
        if name not in self._words:
            linked = self._linked_question(name)
            label, choices = name, {}
            if linked is not None:
                instrument, question = linked
                label = label_text(question.label, self.language, instrument.language) or name
                choices = {
                    str(c.code): label_text(c.label, self.language, instrument.language)
                    for c in question.choice_options
                }
            variable = linked[1].name if linked else None
            banner = next((b for b in self.banners if b.id == name or b.variable == variable), None)
            self._words[name] = (banner.label if banner else label, choices)
        return self._words[name]

    def _linked_question(self, name: str) -> tuple[Instrument, Question] | None:
        for wanted in (name, self.quota_links.get(name)):
            for instrument in self.instruments:
                if wanted and instrument.has_question(wanted):
                    return instrument, instrument.question(wanted)
        for instrument in self.instruments:
            for question in instrument.questions:
                if question.choices == name:  # a question whose choice list is named after the attribute
                    return instrument, question
        return None


def _quota_links(quotas: Iterable[object]) -> dict[str, str]:
    """attribute -> the question a quota level reads first in `coalesce(question, attribute)`."""
    links: dict[str, str] = {}
    for quota in quotas:
        for dimension in getattr(quota, "dimensions", ()):
            for level in dimension.levels:
                for question, attribute in _COALESCE.findall(level.when):
                    links.setdefault(attribute, question)
    return links
