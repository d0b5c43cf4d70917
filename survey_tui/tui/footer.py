"""A footer that fits the terminal: the most important keys first, never a key cut in half.

Textual's Footer lays every shown binding in one row and cuts what does not fit, so at 80 columns the
section keys and Quit fell off the edge. This one measures each key by display width and keeps, in
order: the screen's own keys (each screen lists its bindings by importance), `?` for the overlay with
every key, the section keys and Quit. When they do not all fit, the section keys shrink to their
digits ("h 1 2 3 4 5 6 sections") and the screen's least important keys go; those stay in the `?`
overlay and the command palette.
"""

from __future__ import annotations

from collections.abc import Iterator

from textual.app import ComposeResult
from textual.binding import Binding
from textual.events import Resize
from textual.screen import Screen
from textual.widgets import Footer
from textual.widgets._footer import FooterKey, FooterLabel

from survey_tui.i18n import _
from survey_tui.tui.render import cells

#: binding ids of the app's section keys and Quit (the last part of the footer)
APP_KEYS = ("section.", "app.quit", "app.keys")


def palette_cells() -> int:
    """Cells the command-palette key takes on the right ("^p palette" with its padding and border)."""
    return 6 + cells(_("palette"))


def _is_app_key(binding: Binding) -> bool:
    return bool(binding.id) and any(binding.id == k or binding.id.startswith(k) for k in APP_KEYS if k)  # type: ignore[union-attr]


class FittingFooter(Footer):
    """Footer whose keys are chosen to fit the width, by importance (see the module docstring)."""

    DEFAULT_CSS = """
    FittingFooter FooterKey.-section-key { margin: 0 0 0 1; }
    FittingFooter FooterKey.-section-key .footer-key--key { padding: 0; }
    FittingFooter FooterLabel.-section-label { margin: 0 1 0 1; }
    """

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._laid_width = 0
        self._laid_out: tuple[object, ...] | None = None  # what the keys shown were composed from

    def on_resize(self, event: Resize) -> None:
        if event.size.width != self._laid_width and self._bindings_ready:
            self.call_after_refresh(self.recompose)

    def bindings_changed(self, screen: Screen) -> None:
        """Textual's footer recomposes at every change of the screen's bindings (each focus change, each
        mounted widget): at start that was seven recomposes of the same keys, each restyling every key. This
        one recomposes only when what it would show differs (keys, labels, enabled state or width)."""
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen:
            self.call_after_refresh(self._recompose_if_changed)

    async def _recompose_if_changed(self) -> None:
        if self.is_attached and self._layout() != self._laid_out:
            await self.recompose()

    def _layout(self) -> tuple[object, ...]:
        """Everything compose() reads to choose and label the keys, for comparing two moments."""
        width = self.app.size.width
        screen_keys, app_keys, compact = self.plan(width)
        shown = tuple(
            (b.key, b.action, b.id, b.description, self._key(b), enabled, tooltip)
            for b, enabled, tooltip in screen_keys + app_keys
        )
        active = self.screen.active_bindings.get(self.app.COMMAND_PALETTE_BINDING)
        palette = None if active is None else (active[1].description, self._key(active[1]), active[2], active[3])
        return width, compact, shown, self.show_command_palette, palette

    def _entries(self) -> list[tuple[Binding, bool, str]]:
        """Shown bindings, the screen's first in the order it lists them (its order of importance).

        A focused widget's hidden binding (an Input's Enter) does not hide the screen's key for the same
        thing: Enter in the interviewer form's answer box still means Next.
        """
        active = self.screen.active_bindings
        seen: set[str] = set()
        entries = []
        for _node, binding, enabled, tooltip in active.values():
            if binding.show and binding.action not in seen:
                seen.add(binding.action)
                entries.append((binding, enabled, tooltip))
        own: list[Binding] = [b for group in self.screen._bindings.key_to_bindings.values() for b in group]
        for binding in own:
            shadow = active.get(binding.key)
            if binding.show and binding.action not in seen and shadow is not None and not shadow[1].show:
                seen.add(binding.action)
                entries.append((binding, True, binding.tooltip))
        rank: dict[str, int] = {}
        for i, b in enumerate(type(self.screen).BINDINGS):  # an action's first key decides its place
            if isinstance(b, Binding):
                rank.setdefault(b.action, i)
        return sorted(entries, key=lambda e: rank.get(e[0].action, len(rank)))

    def _key(self, binding: Binding) -> str:
        return self.app.get_key_display(binding)

    def _cost(self, binding: Binding) -> int:
        return cells(self._key(binding)) + 2 + cells(binding.description) + 1

    def plan(self, width: int) -> tuple[list[tuple[Binding, bool, str]], list[tuple[Binding, bool, str]], bool]:
        """(screen keys shown, app keys, whether the section keys are shown as digits only)."""
        entries = self._entries()
        app_keys = [e for e in entries if _is_app_key(e[0])]
        screen_keys = [e for e in entries if not _is_app_key(e[0])]
        budget = width - (palette_cells() if self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE else 0)
        full = sum(self._cost(b) for b, _, _ in entries)
        if full <= budget:
            return screen_keys, app_keys, False
        sections = [e for e in app_keys if e[0].id and e[0].id.startswith("section.")]
        others = [e for e in app_keys if e not in sections]
        compact = sum(cells(self._key(b)) + 1 for b, _, _ in sections) + (cells(_("sections")) + 2 if sections else 0)
        budget -= compact + sum(self._cost(b) for b, _, _ in others)
        shown = []
        for entry in screen_keys:  # in the screen's order of importance; nothing is cut half-way
            cost = self._cost(entry[0])
            if cost <= budget:  # a shorter, later key may still fit where a longer one did not
                shown.append(entry)
                budget -= cost
        return shown, app_keys, True

    def compose(self) -> ComposeResult:
        if not self._bindings_ready:
            return
        width = self.app.size.width
        self._laid_width = width
        self._laid_out = self._layout()
        screen_keys, app_keys, compact = self.plan(width)
        yield from self._keys(screen_keys)
        sections = [e for e in app_keys if e[0].id and e[0].id.startswith("section.")]
        if compact and sections:
            for binding, enabled, tooltip in sections:
                yield FooterKey(
                    binding.key,
                    self._key(binding),
                    "",
                    binding.action,
                    disabled=not enabled,
                    tooltip=tooltip or binding.description,
                    classes="-section-key",
                ).data_bind(compact=Footer.compact)
            yield FooterLabel(_("sections"), classes="-section-label")
            yield from self._keys([e for e in app_keys if e not in sections])
        else:
            yield from self._keys(app_keys)
        if self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE:
            active = self.screen.active_bindings
            if self.app.COMMAND_PALETTE_BINDING in active:
                _node, binding, enabled, _tooltip = active[self.app.COMMAND_PALETTE_BINDING]
                yield FooterKey(
                    binding.key,
                    self._key(binding),
                    binding.description,
                    binding.action,
                    classes="-command-palette",
                    disabled=not enabled,
                    tooltip=binding.tooltip or binding.description,
                )

    def _keys(self, entries: list[tuple[Binding, bool, str]]) -> Iterator[FooterKey]:
        for binding, enabled, tooltip in entries:
            yield FooterKey(
                binding.key,
                self._key(binding),
                binding.description,
                binding.action,
                disabled=not enabled,
                tooltip=tooltip,
            ).data_bind(compact=Footer.compact)
