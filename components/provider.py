"""The component library as a Pulumi plugin package, for programs in other languages.

Defines `PACKAGE` (`delivery`), `COMPONENTS` (what the provider hosts), `EXCLUDED` (the public
components it does not host, and why), `schema()` (the package schema Pulumi's analyzer infers
from the components' type annotations and docstrings), `provider()` (a `DeliveryProvider`) and
`serve()` (the plugin's entry point; `__main__.py` calls it). Importing this module declares
nothing and starts nothing. Python programs keep importing the components directly; this is only
for `pulumi package add`.

The SDK's `component_provider_host(COMPONENTS, "delivery")` is
`pulumi.provider.main(ComponentProvider(...), sys.argv[1:])`; `serve()` calls those two pieces
itself because the analyzer needs three things our code does differently:

1. Every component module uses `from __future__ import annotations`, so annotations are strings
   (or, in TypedDicts, `ForwardRef`s). The analyzer reads them with `inspect.get_annotations`
   without evaluating them and fails on the first one. While the analyzer runs, the annotations
   of the components, their `__init__` and every TypedDict they reach are replaced by evaluated
   ones, then restored (`_evaluated_annotations`).
2. It has no mapping for `Literal[...]`: those keys are analyzed as `str`, the allowed values
   are appended to the key's description, so TypeScript and Go users still read them, and
   `DeliveryProvider.construct` refuses any other value, naming the allowed ones.
3. It reads a key's docstring from the TypedDict that is analyzed, not from the base that
   declares it (`BuildProjectArgs` inherits `buildspec`, `image`... from `BuildSettingsArgs`).
   Missing descriptions are filled from the declaring class.

Type tokens, and what they mean for URNs: the schema (and so every generated SDK) names the
components `delivery:index:<Component>`, because the analyzer puts every type in module `index`
and the provider accepts no other. Our components register themselves as
`delivery:cicd:<Component>` (the contract in `components/__init__.py`), and for a remote component
the engine records the URN the provider's Construct returns (pulumi/pulumi
`pkg/resource/deploy/source_eval.go`), which is the one the Python component registered. So a
TypeScript program's `new delivery.ServicePipeline("orders", ...)` is requested as
`delivery:index:ServicePipeline` but lands in state as
`urn:pulumi:<stack>::<project>::delivery:cicd:ServicePipeline::orders`, its children under
`delivery:cicd:ServicePipeline$...`: the URNs a Python program gets for the same name and parent.
State, `pulumi state` commands and aliases see `delivery:cicd:`; only the generated SDK class
carries `delivery:index:`. Moving our tokens to `index` would rename every Python user's
resources (aliases needed) and align nothing that matters.
"""

from __future__ import annotations

import ast
import inspect
import itertools
import json
import sys
import textwrap
import types
import typing
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Literal, Union

import pulumi
from pulumi.errors import InputPropertyError
from pulumi.output import Inputs
from pulumi.provider import ConstructResult, main
from pulumi.provider.experimental.component import ComponentProvider
from pulumi.provider.experimental.util import camel_case

import components

PACKAGE = "delivery"
"""The package name: the first part of every type token, ours (`delivery:cicd:`) and the
schema's (`delivery:index:`)."""

EXCLUDED: Mapping[str, str] = {}
"""Public components the provider does not host, with the reason."""

SECRET_INPUTS: Mapping[str, tuple[str, ...]] = {
    "GitHubRepositorySettings": ("github_token",),
    "RequiredStatusChecks": ("github_token",),
    "DeliveryReporter": ("github_token",),
}
"""Component -> input keys the schema marks `secret`: the analyzer cannot tell a credential
from a string, and a generated SDK keeps a `secret` input encrypted in state and out of logs
whatever the caller passes."""

COMPONENTS: tuple[type[pulumi.ComponentResource], ...] = tuple(
    value
    for name, value in vars(components).items()
    if inspect.isclass(value)
    and issubclass(value, pulumi.ComponentResource)
    and name in components.__all__
    and name not in EXCLUDED
)
"""Every component exported from `components`, except `EXCLUDED`."""


def schema(
    hosted: Sequence[type[pulumi.ComponentResource]] = COMPONENTS,
) -> dict[str, Any]:
    """The package schema the provider serves for `hosted` (by default, what `serve()` hosts)."""
    return json.loads(provider(hosted).schema or "{}")


def provider(
    hosted: Sequence[type[pulumi.ComponentResource]] = COMPONENTS,
) -> DeliveryProvider:
    """Pulumi's ComponentProvider for `hosted`, with the schema its analyzer infers, completed."""
    with _evaluated_annotations(hosted) as declared:
        hosting = DeliveryProvider(list(hosted), PACKAGE, version=components.__version__)
    completed, allowed = _completed(json.loads(hosting.schema or "{}"), hosted, declared)
    hosting.schema = json.dumps(completed)
    hosting.spec, hosting.allowed = completed, allowed
    return hosting


class DeliveryProvider(ComponentProvider):
    """The SDK's ComponentProvider, refusing a value outside a `Literal` before constructing.

    The schema types those keys as strings (see above), so the generated SDKs accept any string;
    Python users have their type checker, other languages this check.
    """

    spec: dict[str, Any]
    """The completed schema."""
    allowed: dict[str, dict[str, tuple[str, ...]]]
    """Schema token (of a component or a type) -> camelCase key -> its allowed values."""

    def construct(
        self,
        name: str,
        resource_type: str,
        inputs: Inputs,
        options: pulumi.ResourceOptions | None = None,
    ) -> ConstructResult:
        component = resource_type.rsplit(":", 1)[-1]
        if resource_type in self.spec.get("resources", {}):
            self._check(inputs, resource_type, "", component)
        return super().construct(name, resource_type, inputs, options)

    def _check(self, inputs: Any, token: str, path: str, component: str) -> None:
        if not isinstance(inputs, dict):
            return  # an Output: its value is not known before the component uses it
        spec = self.spec["resources"].get(token) or self.spec["types"][token]
        properties = spec.get("inputProperties", spec.get("properties", {}))
        for key, value in inputs.items():
            where = f"{path}.{key}" if path else key
            allowed = self.allowed.get(token, {}).get(key)
            if allowed and isinstance(value, str) and value not in allowed:
                raise InputPropertyError(
                    where,
                    f"{component} input {where}: {value!r} is not allowed; "
                    f"use one of {', '.join(allowed)}",
                )
            self._check_nested(value, properties.get(key, {}), where, component)

    def _check_nested(self, value: Any, spec: dict[str, Any], path: str, component: str) -> None:
        ref = spec.get("$ref", "")
        if ref.startswith("#/types/"):
            self._check(value, ref.removeprefix("#/types/"), path, component)
        elif "items" in spec and isinstance(value, list):
            for i, item in enumerate(value):
                self._check_nested(item, spec["items"], f"{path}[{i}]", component)
        elif "additionalProperties" in spec and isinstance(value, dict):
            for key, item in value.items():
                self._check_nested(item, spec["additionalProperties"], f"{path}.{key}", component)


def serve() -> None:
    """Serve the provider over gRPC to the Pulumi engine whose address is in `sys.argv`."""
    main(provider(), sys.argv[1:])


# Annotations the analyzer can read ----------------------------------------------------------


def typed_dicts(
    hosted: Sequence[type[pulumi.ComponentResource]] = COMPONENTS,
) -> dict[str, type]:
    """Every TypedDict the components' args reach, by name: their args and the schema's types."""
    found: dict[str, type] = {}

    def visit(annotation: Any) -> None:
        if isinstance(annotation, type) and typing.is_typeddict(annotation):
            if annotation.__name__ not in found:
                found[annotation.__name__] = annotation
                for value in evaluated(annotation).values():
                    visit(value)
            return
        for argument in typing.get_args(annotation):
            visit(argument)

    for component in hosted:
        visit(args_type(component))
    return found


def args_type(component: type[pulumi.ComponentResource]) -> type:
    """The TypedDict a component's `args` is annotated with."""
    return inspect.get_annotations(component.__init__, eval_str=True)["args"]


def evaluated(typed_dict: type) -> dict[str, Any]:
    """The annotations of a TypedDict's keys (its bases' too), evaluated one level.

    Not `typing.get_type_hints`: it would also evaluate `pulumi.Input`'s inner `"Output[T]"`,
    in our modules' namespaces, where `Output` is undefined; the analyzer expects that reference
    as it is. One level is what `inspect.get_annotations(eval_str=True)` does for classes.
    """
    return {
        key: _evaluate(value, typed_dict.__module__)
        for key, value in typed_dict.__annotations__.items()
    }


@contextmanager
def _evaluated_annotations(
    hosted: Sequence[type[pulumi.ComponentResource]],
) -> Iterator[dict[str, type]]:
    """Evaluated annotations in place while the analyzer runs; yields `typed_dicts(hosted)`."""
    declared = typed_dicts(hosted)
    saved: list[tuple[Any, dict[str, Any]]] = []

    def replace(owner: Any, annotations: dict[str, Any]) -> None:
        saved.append((owner, owner.__annotations__))
        owner.__annotations__ = annotations

    try:
        for component in hosted:
            replace(component, inspect.get_annotations(component, eval_str=True))
            replace(component.__init__, inspect.get_annotations(component.__init__, eval_str=True))
        for typed_dict in declared.values():
            replace(typed_dict, {k: _without_literals(v) for k, v in evaluated(typed_dict).items()})
        yield declared
    finally:
        for owner, annotations in reversed(saved):
            owner.__annotations__ = annotations


def _evaluate(annotation: Any, module: str) -> Any:
    if isinstance(annotation, typing.ForwardRef):
        # A TypedDict key inherited from another module keeps that module in its ForwardRef.
        module = annotation.__forward_module__ or module
        annotation = annotation.__forward_arg__
    if isinstance(annotation, str):
        return eval(annotation, vars(sys.modules[module]))
    return annotation


def _without_literals(annotation: Any) -> Any:
    """The annotation with each `Literal[...]` of strings replaced by `str`."""
    if typing.get_origin(annotation) is Literal:
        return str
    arguments = typing.get_args(annotation)
    replaced = tuple(_without_literals(a) for a in arguments)
    if replaced == arguments:
        return annotation
    origin = typing.get_origin(annotation)
    if origin is Union or origin is types.UnionType:
        return Union[replaced]  # noqa: UP007 (the `|` form cannot take a tuple)
    if isinstance(annotation, types.GenericAlias):
        return origin[replaced]  # type: ignore[index]
    return annotation.copy_with(replaced)


# Descriptions -----------------------------------------------------------------------------


def literal_values(annotation: Any) -> tuple[str, ...]:
    """The allowed values of a `Literal[...]` key, looking through NotRequired, Input, None."""
    if typing.get_origin(annotation) is Literal:
        return tuple(str(v) for v in typing.get_args(annotation))
    for argument in typing.get_args(annotation):
        found = literal_values(argument)
        if found:
            return found
    return ()


def key_docstrings(typed_dict: type) -> dict[str, str]:
    """Each key's docstring, from the class that declares it (bases first, then the class)."""
    found: dict[str, str] = {}
    definition = _class_definition(typed_dict)
    for base in definition.bases:
        # Python 3.11 keeps no `__orig_bases__` on a TypedDict: read the bases from its source.
        declared = _evaluate(ast.unparse(base), typed_dict.__module__)
        if typing.is_typeddict(declared):
            found.update(key_docstrings(declared))
    body = definition.body
    for statement, following in itertools.pairwise(body):
        if (
            isinstance(statement, ast.AnnAssign)
            and isinstance(statement.target, ast.Name)
            and isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            found[statement.target.id] = inspect.cleandoc(following.value.value)
    return found


def _class_definition(cls: type) -> ast.ClassDef:
    [definition] = ast.parse(textwrap.dedent(inspect.getsource(cls))).body
    assert isinstance(definition, ast.ClassDef), cls
    return definition


def _completed(
    inferred: dict[str, Any],
    hosted: Sequence[type[pulumi.ComponentResource]],
    declared: Mapping[str, type],
) -> tuple[dict[str, Any], dict[str, dict[str, tuple[str, ...]]]]:
    """The schema with the descriptions the analyzer misses (inherited keys, Literal values),
    and each schema token's Literal keys with their allowed values."""
    allowed: dict[str, dict[str, tuple[str, ...]]] = {}
    for component in hosted:
        token = f"{PACKAGE}:index:{component.__name__}"
        resource = inferred["resources"][token]
        allowed[token] = _describe(resource.get("inputProperties", {}), args_type(component))
        for key in SECRET_INPUTS.get(component.__name__, ()):
            resource["inputProperties"][camel_case(key)]["secret"] = True
        for output in resource.get("properties", {}).values():
            if output.get("description"):
                output["description"] = inspect.cleandoc(output["description"])
    for name, typed_dict in declared.items():
        # The components' own args are resources' inputs, not types.
        token = f"{PACKAGE}:index:{name}"
        complex_type = inferred.get("types", {}).get(token)
        if complex_type is not None:
            allowed[token] = _describe(complex_type.get("properties", {}), typed_dict)
    return inferred, allowed


def _describe(properties: dict[str, Any], typed_dict: type) -> dict[str, tuple[str, ...]]:
    """Completes the descriptions of a TypedDict's keys; returns its Literal keys' values."""
    docstrings = key_docstrings(typed_dict)
    literals: dict[str, tuple[str, ...]] = {}
    for key, annotation in evaluated(typed_dict).items():
        schema_property = properties.get(camel_case(key))
        if schema_property is None:
            continue
        description = inspect.cleandoc(
            schema_property.get("description") or docstrings.get(key, "")
        )
        allowed = literal_values(annotation)
        if allowed:
            literals[camel_case(key)] = allowed
            values = ", ".join(f"`{v}`" for v in allowed)
            description = f"{description}\n\nAllowed values: {values}.".strip()
        if description:
            schema_property["description"] = description
    return literals
