"""YAML documents that remember the line of every value, and the problems found in them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

PathKey = str | int
YamlPath = tuple[PathKey, ...]


def yaml_path(path: Iterable[PathKey]) -> str:
    """``resources.jobs.x.tasks[0].dbt_task``: the notation the CLI uses in its messages."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "<root>"


@dataclass
class Doc:
    """One YAML file: its path relative to the bundle root, its data and the line of each path."""

    rel: str
    data: Any
    lines: dict[YamlPath, int] = field(default_factory=dict)

    def line(self, path: Sequence[PathKey]) -> int:
        """The line of ``path``, or of its deepest written parent."""
        for end in range(len(path), -1, -1):
            found = self.lines.get(tuple(path[:end]))
            if found:
                return found
        return 0

    def get(self, *path: PathKey) -> Any:
        current = self.data
        for part in path:
            if isinstance(part, str) and isinstance(current, dict):
                current = current.get(part)
            elif isinstance(part, int) and isinstance(current, list) and part < len(current):
                current = current[part]
            else:
                return None
        return current


class _Constructor(yaml.SafeLoader):
    """PyYAML's safe constructor, used on composed nodes only (never reads a stream)."""

    def __init__(self) -> None:
        super().__init__("")


def load_doc(path: Path, root: Path) -> Doc:
    """Load ``path``; raises ``yaml.YAMLError``. Like the CLI's Go loader, only true/false are
    booleans (``on``/``yes`` stay strings)."""
    rel = path.resolve().relative_to(root.resolve()).as_posix()
    node = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    doc = Doc(rel, None)
    if node is not None:
        doc.data = _convert(node, (), doc, _Constructor())
    return doc


def _convert(node: yaml.Node, at: YamlPath, doc: Doc, ctor: _Constructor) -> Any:
    doc.lines.setdefault(at, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        ctor.flatten_mapping(node)
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = str(ctor.construct_object(key_node, deep=True))
            doc.lines[(*at, key)] = key_node.start_mark.line + 1
            out[key] = _convert(value_node, (*at, key), doc, ctor)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, (*at, i), doc, ctor) for i, item in enumerate(node.value)]
    if node.tag == "tag:yaml.org,2002:bool" and str(node.value).lower() not in ("true", "false"):
        return str(node.value)
    return ctor.construct_object(node, deep=True)


@dataclass(frozen=True)
class Problem:
    """One finding: where it is, what is wrong (with the offending value) and how to fix it."""

    file: str
    line: int
    path: str
    message: str
    targets: tuple[str, ...] = ()

    def format(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        scope = f"  [target {', '.join(self.targets)}]" if self.targets else ""
        return f"{where}  {self.path}{scope}\n    {self.message}"


class Sink:
    """Collects problems; the same problem found for several targets is reported once."""

    def __init__(self) -> None:
        self._items: dict[tuple[str, int, str, str], list[str]] = {}

    def at(self, doc: Doc, path: Sequence[PathKey], message: str, target: str = "") -> None:
        self.add(doc.rel, doc.line(path), yaml_path(path), message, target)

    def add(self, file: str, line: int, path: str, message: str, target: str = "") -> None:
        targets = self._items.setdefault((file, line, path, message), [])
        if target and target not in targets:
            targets.append(target)

    def problems(self) -> list[Problem]:
        found = [Problem(*key, tuple(targets)) for key, targets in self._items.items()]
        return sorted(found, key=lambda p: (p.file, p.line, p.path, p.message))
