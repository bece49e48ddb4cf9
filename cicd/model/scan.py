"""What a release's software bill of materials says: the summary `cicd info` shows.

A service with `scan:` runs Amazon Inspector's source scan (CodePipeline's InspectorScan action)
in Build; the pipeline's Package step puts what that action writes, an SBOM, into the release
under `sbom/`, so a promoted release carries the SBOM of the code it is. Nothing here reads
AWS or prints.
"""

from __future__ import annotations

from dataclasses import dataclass

SEVERITIES: tuple[str, ...] = ("critical", "high", "medium", "low")
"""Inspector's severities, most severe first; anything else counts as `other`."""


@dataclass(frozen=True)
class ScanSummary:
    """Counts from one SBOM: its components, and its vulnerabilities by severity."""

    file: str
    """The SBOM's path inside the release, e.g. `sbom/sbom.json`."""
    format: str
    """`CycloneDX 1.5` (bomFormat and specVersion), or what the file says it is."""
    components: int
    vulnerabilities: dict[str, int]
    """Per severity of `SEVERITIES`, plus `other` (info, none, unknown or unrated)."""

    @property
    def total(self) -> int:
        return sum(self.vulnerabilities.values())

    def describe(self) -> str:
        """`412 components; vulnerabilities: 0 critical, 2 high, 5 medium, 1 low`."""
        counts = self.vulnerabilities
        shown = [f"{counts.get(s, 0)} {s}" for s in SEVERITIES]
        if counts.get("other"):
            shown.append(f"{counts['other']} other")
        found = ", ".join(shown) if self.total else "none"
        return f"{self.components} components; vulnerabilities: {found}"
