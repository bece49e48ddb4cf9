"""ServicePipeline's refusals, word for word: what is wrong, the value, and the way out."""

from __future__ import annotations

from typing import Any

import pytest

from components.service_pipeline import ServicePipeline
from tests.harness import Recorder, run_pulumi


def service(**deploy: Any) -> dict[str, Any]:
    return {
        "service": "orders",
        "stage": "dev",
        "repository": "acme/orders",
        "branch": "main",
        "deploy": {
            "platform": "server",
            "targets": [{"name": "orders", "autoscaling_groups": ["orders-asg"]}],
            **deploy,
        },
    }


def promoted(**extra: Any) -> dict[str, Any]:
    args = service()
    del args["repository"], args["branch"]
    return {**args, "promoted_from": {"upstream_stage": "staging"}, **extra}


def refusal(args: dict[str, Any]) -> str:
    with pytest.raises(ValueError) as refused:
        run_pulumi(lambda: ServicePipeline("orders", args))  # type: ignore[arg-type]
    return str(refused.value)


def test_a_green_fleet_codepipeline_cannot_name_is_refused_with_the_fleet_to_use(
    mocks: Recorder,
) -> None:
    args = service()
    args["deploy"]["targets"][0]["blue_green"] = {"green_fleet": "DISCOVER_EXISTING"}
    assert refusal(args) == (
        "ServicePipeline 'orders': target 'orders' uses DISCOVER_EXISTING, which needs the green "
        "instances named at each CreateDeployment; CodePipeline's CodeDeploy action names only "
        "the application and deployment group. Use COPY_AUTO_SCALING_GROUP"
    )


def test_an_analysis_metric_of_another_platform_is_refused_with_the_platforms_metrics(
    mocks: Recorder,
) -> None:
    args = service(analysis={"metrics": [{"name": "p99-duration"}]})
    assert refusal(args) == (
        "ServicePipeline 'orders': analysis metric 'p99-duration' is not one of "
        "error-rate, p99-latency (server)"
    )


def test_a_verify_suite_named_analysis_beside_a_metric_analysis_is_refused(
    mocks: Recorder,
) -> None:
    args = service(
        analysis={"metrics": [{"name": "error-rate"}]},
        verify=[{"name": "analysis", "target": "orders"}],
    )
    assert refusal(args) == (
        "ServicePipeline 'orders': verify suite 'analysis' would share its action name "
        "with the metric analysis (verify-analysis); rename the suite"
    )


def test_a_verify_suite_naming_an_unknown_target_lists_the_targets(mocks: Recorder) -> None:
    args = service(verify=[{"name": "smoke", "target": "web"}])
    assert refusal(args) == (
        "ServicePipeline 'orders': verify suite 'smoke' names target 'web'; targets: orders"
    )


def test_a_scan_of_a_promoted_service_points_to_the_stage_that_built_it(mocks: Recorder) -> None:
    assert refusal(promoted(scan={})) == (
        "ServicePipeline 'orders': scan applies to a service built from GitHub; this one "
        "deploys the releases staging proved. Give scan to the service there"
    )


def test_traffic_to_an_unknown_target_lists_the_targets(mocks: Recorder) -> None:
    assert refusal(service(traffic={"targets": ["web"]})) == (
        "ServicePipeline 'orders': traffic names target 'web'; targets: orders"
    )
