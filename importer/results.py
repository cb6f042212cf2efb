"""What an import run reports: counts, and each rejected line with its number and reason."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class LineError:
    line: int
    reason: str


@dataclass
class ImportResult:
    read: int = 0
    imported: int = 0
    unchanged: int = 0
    rejected: int = 0
    errors: list[LineError] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.read} records read, {self.imported} imported, "
            f"{self.unchanged} unchanged, {self.rejected} rejected"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "imported": self.imported,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "errors": [{"line": e.line, "reason": e.reason} for e in self.errors],
        }
