"""The browser playground: static files under `static/` and the JSON endpoints they call.

Served at `/playground` when the `playground` setting is on; when it is off, every
`/playground/...` path is an ordinary delivery URL again.
"""
