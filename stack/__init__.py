"""This repository's own Pulumi program: its stack-file schema and how it declares a stage.

`stack.config` validates a stack file into settings; `stack.program` turns settings into the
components of `components/` (the shareable library, which knows nothing of this package);
`stack.offline` evaluates the program under Pulumi's mocks for tests, `cicd plan` and the
benchmarks. `__main__.py` is the entry point Pulumi runs.
"""
