"""Job and task reports of the test Web Service (:mod:`tests.farm.fake_deadline`): their texts and their endpoints.

Kept apart because the failure text the admin views show is read out of these reports, so their form is evidence to
keep next to the code that writes it.

Reports follow Thinkbox's REST pages for job and task reports: ``Data=error|log|requeue|all`` answer report
documents, ``Data=allerrorcontents|alllogcontents|allcontents`` the reports' texts; with no such report the answer
is a text message, not JSON. A worker writes a log report for every task it renders and an error report for every
failed attempt; an error report's text is sectioned like Deadline's (``Error``, ``Type``, ``Stack Trace``, ``Log``
under ``=====`` banners, the task log last), its ``Error`` section holding the plugin's FailRender message.
"""

from __future__ import annotations

from typing import Any

BANNER = "=" * 55
NO_REPORTS = "No {kind}reports for the {what}"


def error_report_text(message: str, log: str) -> str:
    """An error report's contents, sectioned as Deadline writes them (the task log last)."""
    sections = [
        ("Error", f"Error: FailRenderException : {message}\n   at Deadline.Plugins.DeadlinePlugin.FailRender(String)"),
        ("Type", "RenderPluginException"),
        ("Stack Trace", "   at Deadline.Plugins.SandboxedPlugin.d(DeadlineMessage bgt, CancellationToken bgu)"),
        ("Log", log),
    ]
    return "\n".join(f"{BANNER}\n{name}\n{BANNER}\n{text}\n" for name, text in sections)


def report_answer(reports: list[dict[str, Any]], data: str, what: str) -> tuple[int, Any]:
    """What ``Data=`` asks of ``reports``: the report documents, their texts, or the no-reports message."""
    kinds = {"all": None, "error": "error", "log": "log", "requeue": "requeue"}
    contents = {"allcontents": None, "allerrorcontents": "error", "alllogcontents": "log"}
    if data not in kinds and data not in contents:
        return 400, f"Bad Request: invalid Data {data!r}"
    kind = kinds.get(data, contents.get(data))
    chosen = [r for r in reports if kind is None or r["Type"] == kind]
    if not chosen:
        return 200, NO_REPORTS.format(kind=f"{kind} " if kind else "", what=what)
    if data in contents:
        return 200, [r["Contents"] for r in chosen]
    return 200, [{k: v for k, v in r.items() if k != "Contents"} for r in chosen]


class ReportRoutes:
    """``/api/jobreports`` and ``/api/taskreports`` of :class:`~tests.farm.fake_deadline.FakeDeadline`."""

    jobs: dict[str, dict[str, Any]]
    reports: dict[str, list[dict[str, Any]]]

    def _jobreports(self, method: str, q: dict[str, str], body: Any) -> tuple[int, Any]:
        job_id = q.get("JobID", "")
        if job_id not in self.jobs:
            return 500 if job_id else 400, "Error: no such job"
        return report_answer(self.reports.get(job_id, []), q.get("Data", "all").lower(), "Job")

    def _taskreports(self, method: str, q: dict[str, str], body: Any) -> tuple[int, Any]:
        job_id = q.get("JobID", "")
        if job_id not in self.jobs:
            return 500 if job_id else 400, "Error: no such job"
        if not q.get("TaskID", "").isdigit():
            return 400, "Bad Request: TaskID must be an integer"
        reports = [r for r in self.reports.get(job_id, []) if str(r["TaskID"]) == q["TaskID"]]
        return report_answer(reports, q.get("Data", "all").lower(), "Job Task")
