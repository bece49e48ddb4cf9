"""The stack-file schema: per-environment settings, parsed and validated before any resource exists.

One module per concern (`build`, `deploy`, `notify`, `service`, `stage`), the checks that span
them (`checks`), the whole (`stack`), how problems are reported (`errors`) and how config is
read (`load`).
`load_settings` reads Pulumi config and raises one `ConfigError` listing *every* problem: key
path, value received, what is allowed, and the `pulumi config set --path` command that fixes it.
Nothing here declares resources.

Secrets never pass through here as plain values: build variables reference Parameter Store or
Secrets Manager by name/ARN, and a plaintext variable whose name looks like a secret is an error.
"""

from stack.config.build import BuildSettings, EnvVar, TestSuite, looks_secret
from stack.config.deploy import DeploymentWindow, DeploySettings, DeployTarget
from stack.config.errors import ConfigError
from stack.config.load import load_settings, parse_settings
from stack.config.notify import ApprovalSettings, NotificationSettings
from stack.config.service import ServiceSettings
from stack.config.stack import Settings
from stack.config.stage import (
    ArtifactSettings,
    ConnectionSettings,
    EnvironmentSettings,
    GitHubSettings,
)

__all__ = [
    "ApprovalSettings",
    "ArtifactSettings",
    "BuildSettings",
    "ConfigError",
    "ConnectionSettings",
    "DeploySettings",
    "DeployTarget",
    "DeploymentWindow",
    "EnvVar",
    "EnvironmentSettings",
    "GitHubSettings",
    "NotificationSettings",
    "ServiceSettings",
    "Settings",
    "TestSuite",
    "load_settings",
    "looks_secret",
    "parse_settings",
]
