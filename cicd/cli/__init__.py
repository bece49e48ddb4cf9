"""The command line: one module per command (or family of commands), each reading
parse (`register`) -> gather (`cicd.aws`) -> decide (`cicd.decide`) -> print (`cicd.render`).

`main` runs a command; `parser` is the table of contents; `options` and `context` are what the
commands share (option groups; the clients, streams and clock of a run); `following` is
`--wait`. The modules are imported by name (`cicd.cli.main`), never re-exported here.
"""
