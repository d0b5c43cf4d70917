"""YAML files people review and diff: read with line numbers, validate with located messages, write atomically.

ruamel.yaml's round-trip loader keeps the line of every key and item, so a pydantic error at
``sections[2].questions[4].type`` can be reported at the line a researcher sees in their editor; the
same loader writes files back with their comments and key order intact.
"""

from __future__ import annotations

import difflib
import hashlib
import io
import os
import pickle
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml import __version__ as ruamel_version
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from survey_tui.core.atomic import write_bytes_atomic, write_text_atomic  # noqa: F401 - re-exported
from survey_tui.core.cache import cache_dir
from survey_tui.core.problems import Problem, too_large
from survey_tui.i18n import _

M = TypeVar("M", bound=BaseModel)
PathKey = str | int


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never fold long CJK labels across lines
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.allow_unicode = True
    return yaml


def to_plain(node: Any) -> Any:
    """ruamel's commented containers as plain dicts and lists (what pydantic and json expect)."""
    if isinstance(node, dict):
        return {str(k) if not isinstance(k, int | bool) else k: to_plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [to_plain(v) for v in node]
    return node


@dataclass
class YamlDocument:
    """A parsed YAML file that still knows the line of every node.

    `root` is ruamel.yaml's round-trip tree (its containers carry their lines), or, for documents only
    validated (see `fast_plain`), plain dicts and lists with libyaml's composed `nodes` beside them: the lines
    are then looked up in the nodes when a problem asks for one, instead of being stored on every container.
    A plain document from the cache has only its `text`: the nodes are composed again on the first lookup.
    """

    file: str
    root: Any
    nodes: Any = field(default=None, repr=False)
    text: str | None = field(default=None, repr=False)

    @property
    def data(self) -> Any:
        return to_plain(self.root)

    def line_of(self, path: Sequence[PathKey]) -> int | None:
        """The 1-based line of the deepest node of `path` that exists in the file (the line the document starts
        on when none does, e.g. a required top-level key that is missing)."""
        if self.nodes is None and self.text is not None:
            composed = _compose(self.text)
            self.nodes = composed[0] if composed is not None else None
        if self.nodes is not None:
            return _node_line(self.nodes, path)
        node, line = self.root, _start_line(self.root)
        for key in path:
            if isinstance(node, CommentedMap) and key in node:
                pos = node.lc.key(key)
                line = pos[0] + 1 if pos else line
                node = node[key]
            elif isinstance(node, CommentedSeq) and isinstance(key, int) and 0 <= key < len(node):
                pos = node.lc.item(key)
                line = pos[0] + 1 if pos else line
                node = node[key]
            elif isinstance(key, str) and not isinstance(node, CommentedMap | CommentedSeq):
                break
            else:
                continue  # pydantic union tags such as 'list[Choice]' are not in the file
        return line

    def node(self, path: Sequence[PathKey]) -> Any:
        node = self.root
        for key in path:
            try:
                node = node[key]
            except (KeyError, IndexError, TypeError):
                return None
        return node


def _node_line(root: Any, path: Sequence[PathKey]) -> int:
    """`YamlDocument.line_of` over libyaml's nodes: the same walk, the same lines as over ruamel.yaml's tree."""
    import yaml as pyyaml

    node, line = root, root.start_mark.line + 1
    state = _plain_state()
    for key in path:
        if isinstance(node, pyyaml.MappingNode):
            for key_node, value_node in node.value:
                if _scalar(key_node, state) == key:
                    line, node = key_node.start_mark.line + 1, value_node
                    break
            # a key not in the mapping: pydantic union tags such as 'list[Choice]' are not in the file
        elif isinstance(node, pyyaml.SequenceNode) and isinstance(key, int) and 0 <= key < len(node.value):
            node = node.value[key]
            line = node.start_mark.line + 1
        elif isinstance(key, str) and not isinstance(node, pyyaml.MappingNode | pyyaml.SequenceNode):
            break
    return line


def _start_line(node: Any) -> int:
    """Where a parsed node begins (1-based); 1 for a plain scalar document."""
    lc = getattr(node, "lc", None)
    line = getattr(lc, "line", None) if lc is not None else None
    return int(line) + 1 if isinstance(line, int) else 1


#: the largest questionnaire, study.yaml, tab plan or codeframe read (1 MiB, twenty times the largest real
#: instrument seen); `check` stays under a second up to it, and a larger file is refused before it is parsed
MAX_YAML_BYTES = 1024 * 1024


def read_yaml(
    path: Path, display_name: str | None = None, *, read_only: bool = False
) -> tuple[YamlDocument | None, list[Problem]]:
    """Parse a YAML file; a decoding or syntax error becomes a located problem, never an exception.

    A file over MAX_YAML_BYTES is refused before a byte of it is parsed."""
    name = display_name or str(path)
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_YAML_BYTES + 1)
            refused = too_large(os.fstat(handle.fileno()).st_size, MAX_YAML_BYTES, _("a YAML file"))
    except OSError as exc:
        return None, [Problem(name, _("cannot read the file: {error}").format(error=exc.strerror or exc))]
    if refused or len(raw) > MAX_YAML_BYTES:
        return None, [Problem(name, refused or _("the file is over the 1 MiB limit for a YAML file"), line=1)]
    return parse_yaml_bytes(raw, name, read_only=read_only)


def parse_yaml_bytes(raw: bytes, name: str, *, read_only: bool = False) -> tuple[YamlDocument | None, list[Problem]]:
    """`read_yaml` for bytes already read (at most MAX_YAML_BYTES): a caller that keys a cache by a file's
    bytes parses exactly those, not what the file holds a moment later."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, [
            Problem(name, _("the file is not UTF-8 text"), line=line, hint=_("save it as UTF-8 in your editor"))
        ]
    return parse_yaml_text(text, name, cache=True, read_only=read_only)


#: bump when what is cached changes shape; part of every cache key
_CACHE_FORMAT = "1"
_CACHE_KEEP = 256  # entries; the oldest go first


def _cache_dir() -> Path:
    return cache_dir("yaml")


def _cache_key(text: str, kind: str = "tree") -> str:
    """`kind` "tree" is ruamel.yaml's round-trip tree; "plain" the plain containers of `fast_plain`, which
    also depend on the installed pyyaml (its package file, by size and time)."""
    seed = f"{_CACHE_FORMAT}|{ruamel_version}|{kind}|".encode()
    if kind == "plain":
        from survey_tui.core.cache import module_stamp

        seed += module_stamp("yaml").encode()
    return hashlib.sha256(seed + text.encode("utf-8")).hexdigest()


def _cached_root(text: str, kind: str = "tree") -> Any:
    """The parsed tree of exactly this text from an earlier parse (a fresh copy), or None.

    Round-trip parsing is pure Python: 0.05-0.1 s for a study.yaml or a 40-question instrument, several
    times per command. A pickled tree loads in a tenth of that and keeps line numbers and comments.
    """
    try:
        blob = (_cache_dir() / _cache_key(text, kind)).read_bytes()
        return pickle.loads(blob)  # noqa: S301 - written by this program, in the user's own cache folder
    except Exception:  # noqa: BLE001 - no entry, an unreadable one, or another version's: parse instead
        return None


def _cache_root(text: str, root: Any, kind: str = "tree") -> None:
    folder = _cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        data = pickle.dumps(root, protocol=pickle.HIGHEST_PROTOCOL)
        write_bytes_atomic(folder / _cache_key(text, kind), data, cached=True)
        entries = list(folder.iterdir())
        if len(entries) > _CACHE_KEEP:
            entries.sort(key=lambda e: e.stat().st_mtime)
            for old in entries[: len(entries) - _CACHE_KEEP]:
                old.unlink(missing_ok=True)
    except Exception:  # noqa: BLE001 - a cache that cannot be written (or a tree that cannot be pickled) costs time only
        pass


def parse_yaml_text(
    text: str, name: str, *, cache: bool = False, read_only: bool = False
) -> tuple[YamlDocument | None, list[Problem]]:
    """Parse YAML text; with `cache`, a text parsed before (a file, a published version) is not parsed again.

    Only valid documents are cached, keyed by the text's hash, so a change to the file is always parsed.
    Callers that parse every keystroke's draft leave `cache` off, so the cache holds files, not drafts.
    `read_only` callers (they validate, never write the document back) get libyaml's parse when the text
    is plain enough for it to give exactly what ruamel.yaml gives, without comments (about ten times faster),
    as plain containers whose lines are looked up in libyaml's nodes (see `fast_plain`); anything else, and
    every error, goes through ruamel.yaml. With `cache` such a plain document is cached too (apart from the
    round-trip tree, without the nodes: they are composed again only when a problem asks for a line), so a
    file read before is not parsed again, nor libyaml even imported, at the next start of the app.
    """
    if cache:
        cached = _cached_root(text)
        if cached is not None:
            return YamlDocument(name, cached), []
        if read_only:
            plain = _cached_root(text, "plain")
            if plain is not None:
                return YamlDocument(name, plain, text=text), []
    if read_only:
        fast = fast_plain(text)
        if fast is not None and _expanded_size(fast[0]) <= MAX_NODES:  # nested aliases: ruamel.yaml's message
            if cache:
                _cache_root(text, fast[0], "plain")
            return YamlDocument(name, fast[0], fast[1]), []
    document, problems = _parse_yaml_text(text, name)
    if cache and document is not None:
        _cache_root(text, document.root)
    return document, problems


def _parse_yaml_text(text: str, name: str) -> tuple[YamlDocument | None, list[Problem]]:
    try:
        root = _yaml().load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        what = (exc.problem or exc.context or "invalid YAML").strip()
        message, hint = _("YAML syntax: {what}").format(what=what), _("check indentation and quotes")
        return None, [Problem(name, message, line=line, hint=hint)]
    except YAMLError as exc:  # the reader's errors (a control character) carry a position, not a mark
        position = getattr(exc, "position", None)
        line = text[:position].count("\n") + 1 if isinstance(position, int) else 1
        what = str(exc).split("\n", 1)[0].strip() or "invalid YAML"
        message, hint = _("YAML syntax: {what}").format(what=what), _("remove the character or quote it")
        return None, [Problem(name, message, line=line, hint=hint)]
    except ValueError as exc:  # ruamel builds dates while parsing: 2026-13-45 raises here
        return None, [_bad_value_problem(text, name, exc)]
    except RecursionError:
        return None, [Problem(name, _("the file is nested too deeply to be a questionnaire or plan"))]
    except Exception as exc:  # noqa: BLE001 - any other parser failure is a problem with the file, not a crash
        return None, [Problem(name, _("cannot read the YAML: {error}").format(error=exc))]
    if root is None:
        return None, [Problem(name, _("the file is empty"), line=1)]
    if _expanded_size(root) > MAX_NODES:
        return None, [
            Problem(
                name,
                _("the file expands to more than {count:,} values (nested aliases?)").format(count=MAX_NODES),
                hint=_("write the values out instead of nesting &anchors and *aliases"),
            )
        ]
    return YamlDocument(name, root), []


class _Unsupported(Exception):
    """The text uses something the fast path does not reproduce exactly: ruamel.yaml parses it instead."""


_STR = "tag:yaml.org,2002:str"
_FAST_STATE: dict[str, Any] = {}


def _plain_state() -> dict[str, Any]:
    """ruamel.yaml's YAML 1.2 resolver table and constructor (made once), and a fresh memo of plain scalars."""
    state = _FAST_STATE
    if not state:
        from ruamel.yaml.nodes import ScalarNode as RuamelScalar

        rt = _yaml()
        table = rt.resolver.versioned_resolver  # YAML 1.2, as ruamel.yaml resolves plain scalars
        state.update(table={k: list(v) for k, v in table.items()}, constructor=rt.constructor, scalar=RuamelScalar)
    return {**state, "plain": {}}


def _compose(text: str) -> tuple[Any, Any] | None:
    """libyaml's node tree of `text` (every scalar tagged str, resolved later the YAML 1.2 way), and pyyaml."""
    if "%YAML" in text or "%TAG" in text or "<<" in text:
        return None
    try:
        import yaml as pyyaml

        loader_class = pyyaml.CSafeLoader
    except (ImportError, AttributeError):
        return None
    defaults = {
        pyyaml.ScalarNode: _STR,
        pyyaml.SequenceNode: "tag:yaml.org,2002:seq",
        pyyaml.MappingNode: "tag:yaml.org,2002:map",
    }

    class Loader(loader_class):  # type: ignore[misc,valid-type]
        def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
            return defaults[kind]  # plain scalars are resolved below, the YAML 1.2 way ruamel.yaml does

    try:
        node = pyyaml.compose(text, Loader=Loader)
    except Exception:  # noqa: BLE001 - ruamel.yaml will report the problem with its own words
        return None
    return None if node is None else (node, pyyaml)


def fast_root(text: str) -> Any | None:
    """The document as ruamel.yaml's round-trip loader builds it (CommentedMap / CommentedSeq with the line
    and column of every key and item, the same scalar types), composed by libyaml (PyYAML's C parser).

    None when libyaml is missing, the text does not parse, or it uses what this path leaves to ruamel.yaml:
    tags, merge keys, duplicate or non-scalar keys, block scalars, directives. Comments are not kept."""
    composed = _compose(text)
    if composed is None:
        return None
    node, pyyaml = composed
    try:
        return _build(node, _plain_state(), {}, pyyaml)
    except (_Unsupported, ValueError, TypeError, RecursionError):
        return None


def fast_plain(text: str) -> tuple[Any, Any] | None:
    """What `to_plain(fast_root(text))` gives, without building the round-trip tree first, and the composed
    nodes its lines are read from (`YamlDocument.nodes`): for documents that are validated, never written back.

    The same containers' contents, the same scalars (types and values) and the same refusals as `fast_root`;
    only the containers are plain dicts and lists and carry no lines. Aliases stay shared, as in `fast_root`."""
    composed = _compose(text)
    if composed is None:
        return None
    node, pyyaml = composed
    try:
        return _build_plain(node, _plain_state(), {}, pyyaml.ScalarNode, pyyaml.SequenceNode), node
    except (_Unsupported, ValueError, TypeError, RecursionError):
        return None


def _build_plain(node: Any, state: dict[str, Any], seen: dict[int, Any], scalar_node: type, sequence_node: type) -> Any:
    key = id(node)
    if key in seen:  # an alias: the same object
        return seen[key]
    kind = type(node)
    if kind is scalar_node:
        value = seen[key] = _scalar(node, state)
        return value
    if kind is sequence_node:
        if node.tag != "tag:yaml.org,2002:seq":
            raise _Unsupported
        items: list[Any] = []
        seen[key] = items
        items.extend([_build_plain(child, state, seen, scalar_node, sequence_node) for child in node.value])
        return items
    if node.tag != "tag:yaml.org,2002:map":
        raise _Unsupported
    mapping: dict[Any, Any] = {}
    seen[key] = mapping
    for key_node, value_node in node.value:
        if type(key_node) is not scalar_node:
            raise _Unsupported
        name = _scalar(key_node, state)
        if name in mapping:
            raise _Unsupported  # ruamel.yaml reports duplicate keys
        mapping[name] = _build_plain(value_node, state, seen, scalar_node, sequence_node)
    return mapping


def _build(node: Any, state: dict[str, Any], seen: dict[int, Any], pyyaml: Any) -> Any:
    if id(node) in seen:  # an alias: the same object, as ruamel.yaml gives it
        return seen[id(node)]
    if isinstance(node, pyyaml.ScalarNode):
        value = _scalar(node, state)
        seen[id(node)] = value
        return value
    if isinstance(node, pyyaml.SequenceNode):
        if node.tag != "tag:yaml.org,2002:seq":
            raise _Unsupported
        seq = CommentedSeq()
        lc = seq.lc
        lc.line, lc.col, lc.data = node.start_mark.line, node.start_mark.column, {}
        seen[id(node)] = seq
        items = lc.data
        for index, child in enumerate(node.value):
            seq.append(_build(child, state, seen, pyyaml))
            items[index] = [child.start_mark.line, child.start_mark.column]
        return seq
    if node.tag != "tag:yaml.org,2002:map":
        raise _Unsupported
    from ruamel.yaml.compat import ordereddict

    mapping = CommentedMap()
    lc = mapping.lc
    lc.line, lc.col, lc.data = node.start_mark.line, node.start_mark.column, {}
    positions = lc.data
    seen[id(node)] = mapping
    keys: set[Any] = set()
    for key_node, value_node in node.value:
        if not isinstance(key_node, pyyaml.ScalarNode):
            raise _Unsupported
        key = _scalar(key_node, state)
        if key in keys:
            raise _Unsupported  # ruamel.yaml reports duplicate keys
        keys.add(key)
        # what CommentedMap.__setitem__ does for a new key, without its checks for an existing one
        ordereddict.__setitem__(mapping, key, _build(value_node, state, seen, pyyaml))
        mapping._ok.add(key)
        key_mark, value_mark = key_node.start_mark, value_node.start_mark
        positions[key] = [key_mark.line, key_mark.column, value_mark.line, value_mark.column]
    return mapping


def _scalar(node: Any, state: dict[str, Any]) -> Any:
    style = node.style
    if node.tag != _STR:
        raise _Unsupported  # an explicit tag
    if style == "|":
        from ruamel.yaml.scalarstring import LiteralScalarString

        return LiteralScalarString(node.value)
    if style == ">":  # ruamel.yaml also remembers where the lines were folded: only for writing back
        from ruamel.yaml.scalarstring import FoldedScalarString

        return FoldedScalarString(node.value)
    if style == "'":
        from ruamel.yaml.scalarstring import SingleQuotedScalarString

        return SingleQuotedScalarString(node.value)
    if style == '"':
        from ruamel.yaml.scalarstring import DoubleQuotedScalarString

        return DoubleQuotedScalarString(node.value)
    value = node.value
    plain = state["plain"]  # plain scalars repeat (codes, types, flags); their values are immutable
    if value in plain:
        return plain[value]
    table = state["table"]
    for tag, regexp in table.get(value[:1], []) + table.get(None, []):  # ruamel.yaml's resolve(), in order
        if regexp.match(value):
            ruamel_node = state["scalar"](tag, value, None, None)
            result = state["constructor"].construct_object(ruamel_node, deep=True)
            break
    else:
        result = value
    plain[value] = result
    return result


#: far above any real questionnaire (the 200-question benchmark instrument has about 4,000 values)
MAX_NODES = 1_000_000


def _expanded_size(root: Any) -> int:
    """How many values `to_plain` would build, counted without building them (aliases count each time)."""
    memo: dict[int, int] = {}

    def size(node: Any, depth: int) -> int:
        if depth > 200:
            return MAX_NODES + 1
        if not isinstance(node, dict | list):
            return 1
        key = id(node)
        if key not in memo:
            children = node.values() if isinstance(node, dict) else node
            total = 1
            for child in children:
                total += size(child, depth + 1)
                if total > MAX_NODES:
                    break
            memo[key] = total
        return memo[key]

    return size(root, 0)


_DATE_LIKE = re.compile(r"(?<![\w.-])(\d{4})-(\d{1,2})-(\d{1,2})(?![\w.-])")


def _bad_value_problem(text: str, name: str, exc: ValueError) -> Problem:
    """A value the YAML parser could not build (an impossible date), located at its first line."""
    for number, line in enumerate(text.splitlines(), start=1):
        for match in _DATE_LIKE.finditer(line.split("#", 1)[0]):
            try:
                date(*map(int, match.groups()))
            except ValueError:
                message = _("'{value}' is not a real date ({error})").format(value=match.group(0), error=exc)
                return Problem(name, message, line=number, hint=_("write dates as YYYY-MM-DD"))
    return Problem(name, _("invalid value: {error}").format(error=exc))


def format_path(path: Sequence[PathKey]) -> str:
    out = ""
    for key in path:
        out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else str(key))
    return out


def _allowed_fields(model: type[BaseModel], path: Sequence[PathKey]) -> list[str]:
    """Field names of the model at `path`, to suggest the right spelling of an unknown key."""
    current: Any = model
    for key in path[:-1]:
        if isinstance(key, int):
            continue
        field = getattr(current, "model_fields", {}).get(key)
        if field is None:
            return []
        current = _model_in(field.annotation)
        if current is None:
            return []
    return list(getattr(current, "model_fields", {}))


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def validate_document(model: type[M], doc: YamlDocument, where_of: Any = None) -> tuple[M | None, list[Problem]]:
    """Validate with pydantic and translate every error to a located, plain-language problem.

    `where_of(path)` may name the thing a path belongs to (e.g. the question name).
    """
    try:
        return model.model_validate(doc.data), []
    except ValidationError as exc:
        problems = []
        seen: set[tuple[Any, ...]] = set()
        for err in exc.errors(include_url=False):
            loc = tuple(k for k in err["loc"] if isinstance(k, int) or "[" not in str(k))
            key = (loc, err["type"])
            if key in seen:
                continue
            seen.add(key)
            problems.append(_problem_from_error(model, doc, loc, err, where_of))
        return None, problems


def _problem_from_error(
    model: type[BaseModel], doc: YamlDocument, loc: tuple[Any, ...], err: Any, where_of: Any
) -> Problem:
    kind = err["type"]
    field = format_path(loc) or "(top level)"
    hint = None
    # the key itself ('1[id' from a mistyped line) when the filtered location is empty
    last = str(loc[-1]) if loc else (str(err["loc"][-1]) if err["loc"] else "(top level)")
    if kind == "extra_forbidden":
        allowed = _allowed_fields(model, loc)
        close = difflib.get_close_matches(last, allowed, n=1)
        message = _("unknown field '{name}'").format(name=last)
        if close:
            hint = _("did you mean '{name}'?").format(name=close[0])
        elif allowed:
            hint = _("allowed: {names}").format(names=", ".join(allowed))
    elif kind == "missing":
        message = _("'{name}' is required here").format(name=last)
    elif kind == "literal_error":
        choices = err["msg"].replace("Input should be ", "")  # pydantic's list: 'a', 'b' or 'c'
        got = err.get("input")
        if got is not None:
            message = _("{field}: should be {choices}, not {value!r}").format(field=field, choices=choices, value=got)
        else:
            message = _("{field}: should be {choices}").format(field=field, choices=choices)
    else:
        msg = err["msg"].removeprefix("Value error, ")
        message = f"{field}: {msg}"
    where = where_of(loc) if where_of else None
    # the unfiltered location finds a mistyped key itself; the filtered one the nearest node that exists
    line = doc.line_of(tuple(err["loc"])) if kind == "extra_forbidden" else doc.line_of(loc)
    return Problem(doc.file, message, line=line, where=where or field, hint=hint)


def dump_yaml(data: Any) -> str:
    buffer = io.StringIO()
    _yaml().dump(data, buffer)
    return buffer.getvalue()


def write_yaml_atomic(path: Path, data: Any) -> None:
    write_text_atomic(path, dump_yaml(data))
