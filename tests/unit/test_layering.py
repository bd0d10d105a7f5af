"""Data flows one way: channels -> bot -> knowledge. Checked on the source, import by import."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _imports(package: str) -> dict[Path, set[str]]:
    found: dict[Path, set[str]] = {}
    for path in (ROOT / package).rglob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module)
        found[path] = names
    return found


def test_knowledge_imports_neither_bot_nor_channels() -> None:
    for path, names in _imports("knowledge").items():
        bad = {n for n in names if n.split(".")[0] in ("bot", "channels")}
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


def test_bot_core_does_not_import_channels_except_the_composition_root() -> None:
    for path, names in _imports("bot").items():
        if path.name in ("app.py", "host.py", "channel_registry.py"):  # composition roots
            continue
        bad = {n for n in names if n.split(".")[0] == "channels"}
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


def test_a_channel_never_reaches_into_another() -> None:
    for path, names in _imports("channels").items():
        parts = path.relative_to(ROOT / "channels").parts
        if len(parts) < 2:
            continue
        own = parts[0]
        bad = {n for n in names if n.startswith("channels.") and n.split(".")[1] != own}
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"
