"""What is wrong in a pack, said so that an agent can find and fix it without a programmer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem found in one pack file, located as precisely as the file allows."""

    file: str
    message: str
    line: int | None = None
    entry: str | None = None  # e.g. 'entrée 12 (id "cantine")'
    field: str | None = None  # e.g. 'answer' or 'hours > lundi > 1'

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}, ligne {self.line}"
        parts = [where]
        if self.entry:
            parts.append(self.entry)
        if self.field:
            parts.append(f'champ "{self.field}"')
        return " : ".join(parts) + f" : {self.message}"


class PackError(Exception):
    """Raised when a pack cannot be used; carries every problem found, not only the first."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))
