"""pixcast's HTTP edge: settings, routes, origins, the result cache and the worker pool.

No pixel code lives here; rendering is `transforms.pipeline.render`, run in a bounded pool.
"""
