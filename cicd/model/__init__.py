"""The nouns of `cicd`, as frozen dataclasses: a pipeline and its layout (`pipeline`), a release,
its manifest and a published release (`release`), what an execution ran (`run`), a status
(`status`) and delivery metrics (`metrics`). Nothing here reads AWS or prints.
"""
