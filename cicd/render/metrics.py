"""`cicd metrics` as text: the four DORA measures of one service, in words.

`render_metrics` takes a `ServiceMetrics` (what `cicd.decide.metrics.compute` measured) and
returns lines; `render_published` the same for a `PublishedMetrics` (what the stage's reporter
published to CloudWatch). Both say which source they show.
"""

from __future__ import annotations

from cicd.model.metrics import PublishedMetrics, ServiceMetrics, median, percentile
from cicd.text import format_duration


def render_metrics(m: ServiceMetrics) -> list[str]:
    lead = median(m.lead_times)
    p90 = percentile(m.lead_times, 0.9)
    unknown = f"; {m.lead_unknown} with an unknown commit" if m.lead_unknown else ""
    rate = m.failure_rate
    kinds = [f.kind for f in m.failures]
    restore = median(m.restore_times)
    open_failures = sum(1 for f in m.failures if f.restored is None)
    lines = [
        f"=== {m.service} ({m.pipeline})",
        f"Deployment frequency:  {m.releases} successful releases: {m.per_day:.2f}/day, "
        f"{m.per_day * 7:.1f}/week",
        "Lead time for changes: "
        + (
            f"median {format_duration(lead)}, 90th percentile {format_duration(p90)}, over "
            f"{len(m.lead_times)} releases{unknown}"
            if lead is not None
            else f"no release to measure{unknown}"
        ),
        "  (from the first build of each commit in any environment: commit times are not "
        "in CodePipeline)",
        "Change failure rate:   "
        + (
            f"{len(m.failures)} of {m.changes} changes ({rate:.0%}): "
            f"{kinds.count('failed in Deploy')} failed in Deploy, "
            f"{kinds.count('followed by a rollback')} followed by a rollback"
            + (f", {kinds.count('unclassified')} unclassified" if "unclassified" in kinds else "")
            if rate is not None
            else "no change reached production"
        ),
        "Time to restore:       "
        + (
            f"median {format_duration(restore)} over {len(m.restore_times)} failures"
            if restore is not None
            else "no failure to restore from"
        )
        + (f"; {open_failures} not restored yet" if open_failures else ""),
    ]
    lines += [f"Note: {note}" for note in m.notes]
    return lines


SOURCE_EXECUTIONS = "Source: pipeline executions"
SOURCE_PUBLISHED = "Source: published CloudWatch metrics"


def render_published(m: PublishedMetrics) -> list[str]:
    rate = m.failure_rate
    return [
        f"=== {m.service} ({m.pipeline})",
        f"{SOURCE_PUBLISHED} (namespace Delivery, Service={m.service}, Stage={m.stage})",
        f"Deployment frequency:  {m.succeeded} successful releases: {m.per_day:.2f}/day, "
        f"{m.per_day * 7:.1f}/week ({m.started} started)",
        "Lead time for changes: "
        + (
            f"median {format_duration(m.lead_median)}, 90th percentile "
            f"{format_duration(m.lead_p90)}, over {m.lead_count} releases"
            if m.lead_median is not None and m.lead_p90 is not None
            else "no release to measure"
        ),
        "  (from each commit's date on GitHub)",
        "Change failure rate:   "
        + (
            f"{m.failed} of {m.changes} finished releases failed ({rate:.0%}); "
            f"{m.rolled_back} rollbacks"
            if rate is not None
            else f"no release finished; {m.rolled_back} rollbacks"
        ),
        "Time to restore:       "
        + (
            f"median {format_duration(m.restore_median)} over {m.restore_count} restores"
            if m.restore_median is not None
            else "no failure to restore from"
        ),
    ]
