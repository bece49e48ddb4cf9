"""Entry point of the `delivery` Pulumi plugin: serves the components to the Pulumi engine.

The Python language host runs a plugin directory that has a `__main__.py` as `python <dir>
<engine address> ...` (see PulumiPlugin.yaml); `python -m components` does the same from an
installed library. Importing this module does nothing.
"""

if __name__ == "__main__":
    from components.provider import serve

    serve()
