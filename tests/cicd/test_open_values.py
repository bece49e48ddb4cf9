"""`cicd open` on a terminal where no browser opens: the URL, and what to do with it."""

from __future__ import annotations

from tests.cicd.aws_fakes import CliRunner, StubbedAws


def test_open_on_a_terminal_without_a_browser_says_to_copy_the_url(
    aws: StubbedAws, cli: CliRunner
) -> None:
    cli.browser = False
    aws.expect_pipeline("web", "prod")
    url = (
        "https://eu-west-1.console.aws.amazon.com/codesuite/codepipeline/pipelines/"
        "web-prod-pipeline/view?region=eu-west-1"
    )

    result = cli("open", "--pipeline", "web-prod-pipeline", clients=aws.clients(), terminal=True)

    assert (result.code, cli.opened) == (0, [url])
    assert result.out.splitlines() == [url, "(no browser could be opened here: copy the URL)"]
