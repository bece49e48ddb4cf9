"""Settings the program passes on to the components, for keys the sample stack files leave at
their defaults: each changed in a copy of a sample and followed to the resource it reaches.

Found by `make mutation`: a mutant of `stack/program.py` that dropped or renamed these passed
the whole suite, because every sample takes the default.
"""

from __future__ import annotations

import json
from typing import Any

from tests.harness import PROJECT, ROOT, StackRun, flatten_stack_config, run_program

NS = PROJECT
PROJECT_TYPE = "aws:codebuild/project:Project"


def staging_with(edit: Any) -> StackRun:
    flat, secrets = flatten_stack_config(ROOT / "Pulumi.staging.yaml")
    services = json.loads(flat[f"{NS}:services"])
    edit(services[0])
    flat[f"{NS}:services"] = json.dumps(services)
    return run_program("staging", flat, secrets)


def build_project(run: StackRun) -> dict[str, Any]:
    return next(
        r.inputs
        for r in run.recorder.of_type(PROJECT_TYPE)
        if r.inputs["name"] == "web-staging-build"
    )


def test_build_variables_of_every_kind_reach_the_build_project_with_their_type() -> None:
    def edit(web: dict[str, Any]) -> None:
        web["build"]["environment"].update(
            LOG_LEVEL={"value": "debug"}, FEATURE_FLAGS={"parameter": "/web/staging/flags"}
        )

    variables = {
        v["name"]: (v["type"], v["value"])
        for v in build_project(staging_with(edit))["environment"]["environmentVariables"]
    }
    assert variables["LOG_LEVEL"] == ("PLAINTEXT", "debug")
    assert variables["FEATURE_FLAGS"] == ("PARAMETER_STORE", "/web/staging/flags")
    assert variables["NPM_TOKEN"][0] == "SECRETS_MANAGER"


def test_the_build_image_given_is_the_one_the_build_project_runs() -> None:
    image = "aws/codebuild/amazonlinux-x86_64-standard:4.0"
    run = staging_with(lambda web: web["build"].update(image=image))
    assert build_project(run)["environment"]["image"] == image
