"""YAML reading that keeps where each value came from, so errors can name lines and entries.

Dates stay text (PyYAML would otherwise raise on "2026-02-30" before any validation could
name the entry); the models parse them. Duplicate keys, which PyYAML silently drops, are
reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available: faster


class _PackLoader(_Base):  # type: ignore[valid-type,misc]
    """SafeLoader without the implicit timestamp type."""


_PackLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class YamlSyntaxError(Exception):
    """A file that is not valid YAML, with the line where the parser stopped."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.line = line


@dataclass(frozen=True, slots=True)
class YamlDocument:
    """Parsed data together with the node tree it was built from."""

    data: Any
    root: yaml.Node | None
    duplicate_keys: tuple[tuple[str, int], ...] = field(default=())

    def line_of(self, loc: Sequence[int | str]) -> int | None:
        """1-based line of the deepest node reachable along `loc`."""
        node = self.root
        line = None if node is None else node.start_mark.line + 1
        for step in loc:
            node = _child(node, step)
            if node is None:
                break
            line = node.start_mark.line + 1
        return line


def _child(node: yaml.Node | None, step: int | str) -> yaml.Node | None:
    if isinstance(node, yaml.SequenceNode) and isinstance(step, int):
        return node.value[step] if 0 <= step < len(node.value) else None
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == str(step):
                return value  # type: ignore[no-any-return]
    return None


def _duplicates(node: yaml.Node | None) -> list[tuple[str, int]]:
    found: list[tuple[str, int]] = []
    stack = [node] if node is not None else []
    while stack:
        current = stack.pop()
        if isinstance(current, yaml.MappingNode):
            seen: set[str] = set()
            for key, value in current.value:
                if isinstance(key, yaml.ScalarNode):
                    if key.value in seen:
                        found.append((key.value, key.start_mark.line + 1))
                    seen.add(key.value)
                stack.append(value)
        elif isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)
    return sorted(found, key=lambda item: item[1])


def parse_yaml(text: str) -> YamlDocument:
    """Parse one YAML document; raises YamlSyntaxError with a French message."""
    loader = _PackLoader(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise YamlSyntaxError(f"YAML invalide ({exc.problem or exc.context})", line) from exc
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(f"YAML invalide ({exc})", None) from exc
    finally:
        loader.dispose()
    return YamlDocument(data, root, tuple(_duplicates(root)))
