"""`cicd.aws.status.with_promotes_from`: a pipeline named with --pipeline gets its tags.

`cicd status` itself is tests/cicd/test_status.py and test_status_overview.py.
"""

from __future__ import annotations

from cicd.aws import status
from cicd.aws.pipelines import parse_layout
from cicd.model.pipeline import PipelineRef
from tests.cicd.aws_fakes import (
    RELEASE_BUCKET,
    StubbedAws,
    pipeline_arn,
    promoted_declaration,
)


def test_a_named_pipeline_keeps_its_name_and_gains_service_stage_and_upstream() -> None:
    aws = StubbedAws()
    layout = parse_layout(
        promoted_declaration("shop", "prod", bucket=RELEASE_BUCKET),
        pipeline_arn("shop-prod-pipeline"),
    )
    aws.codepipeline.add_response(
        "list_tags_for_resource",
        {
            "tags": [
                {"key": "cicd:service", "value": "shop"},
                {"key": "cicd:stage", "value": "prod"},
                {"key": "cicd:promotes-from", "value": "staging"},
            ]
        },
        {"resourceArn": pipeline_arn("shop-prod-pipeline")},
    )

    ref = status.with_promotes_from(aws.clients(), PipelineRef(layout.name), layout)

    aws.verify()
    assert ref == PipelineRef(layout.name, "shop", "prod", "staging")
