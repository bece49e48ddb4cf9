"""What people and scripts read from `cicd`: one module per view (`status`, `releases`, `info`,
`metrics`, `following`) returning lines, and the `--json` documents (`documents`). Nothing here
reads AWS or writes to a stream; the short forms and tables every layer uses are `cicd.text`.
"""
