"""Rendering a :class:`~neuroplug.spec.runner.SpecReport` as text, JSON or JUnit XML."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any

from .framework import get_check
from .runner import SpecReport

__all__ = ["to_text", "to_json", "to_junit_xml", "summary_line"]

_MARK = {"passed": "PASS ", "failed": "FAIL ", "skipped": "SKIP ", "xfailed": "XFAIL", "xpassed": "XPASS"}


def summary_line(report: SpecReport) -> str:
    """E.g. ``57 components, 812 checks: 700 passed, 0 failed, 112 skipped, 0 xfailed, 0 xpassed (12.3 s)``."""
    c = report.counts()
    return (f"{len(report.components)} components, {len(report.results)} checks: {c['passed']} passed, "
            f"{c['failed']} failed, {c['skipped']} skipped, {c['xfailed']} xfailed, {c['xpassed']} xpassed "
            f"({report.seconds:.1f} s)")


def to_text(report: SpecReport, *, verbose: bool = False) -> str:
    """Per component, each check by ID with its status; failures with their full message.

    Skips are listed with their reason when ``verbose``; otherwise counted.
    """
    lines: list[str] = []
    for (kind, name), results in report.by_component().items():
        info = report.components.get((kind, name), {})
        origin = f" [{info['plugin']}]" if info.get("plugin") else ""
        counts = {s: sum(r.status == s for r in results) for s in _MARK}
        lines.append(f"{kind} {name}{origin}: {counts['passed']} passed, {counts['failed']} failed, "
                     f"{counts['skipped']} skipped" + (f", {counts['xfailed']} xfailed" if counts["xfailed"] else "")
                     + (f", {counts['xpassed']} xpassed" if counts["xpassed"] else ""))
        for r in results:
            if r.status == "skipped" and not verbose:
                continue
            if r.status == "passed" and not verbose:
                continue
            head = f"  {_MARK[r.status]} {r.check_id:<28} {get_check(r.check_id).title}"
            lines.append(head)
            if r.message:
                lines.extend("        " + m for m in r.message.splitlines())
    lines.append(summary_line(report))
    return "\n".join(lines)


def to_json(report: SpecReport) -> str:
    """A JSON document: summary counts, then components with every check result."""
    doc: dict[str, Any] = {"ok": report.ok, "counts": report.counts(), "seconds": round(report.seconds, 3),
                           "components": []}
    for (kind, name), results in report.by_component().items():
        info = report.components.get((kind, name), {})
        doc["components"].append({
            "name": name, **info,
            "checks": [{"id": r.check_id, "status": r.status, "message": r.message,
                        "title": get_check(r.check_id).title, "seconds": round(r.seconds, 4)} for r in results],
        })
    return json.dumps(doc, indent=2)


def to_junit_xml(report: SpecReport) -> str:
    """JUnit XML: one ``testsuite`` per component, one ``testcase`` per check (xpass is a failure)."""
    root = ET.Element("testsuites", name="neuroplug-spec", tests=str(len(report.results)),
                      failures=str(len(report.failures())), time=f"{report.seconds:.3f}")
    for (kind, name), results in report.by_component().items():
        suite = ET.SubElement(root, "testsuite", name=f"{kind} {name}", tests=str(len(results)),
                              failures=str(sum(not r.ok for r in results)),
                              skipped=str(sum(r.status in ("skipped", "xfailed") for r in results)),
                              time=f"{sum(r.seconds for r in results):.3f}")
        for r in results:
            case = ET.SubElement(suite, "testcase", classname=f"{kind}.{name}", name=r.check_id, time=f"{r.seconds:.4f}")
            if r.status in ("failed", "xpassed"):
                node = ET.SubElement(case, "failure", message=(r.message.splitlines() or [r.status])[0])
                node.text = r.message
            elif r.status in ("skipped", "xfailed"):
                ET.SubElement(case, "skipped", message=r.message or r.status)
    return ET.tostring(root, encoding="unicode")
