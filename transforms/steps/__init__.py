"""Pipeline steps: one module per step, each a small function over a render Context."""
