"""pixcast's transformation library: URL grammar, geometry and the libvips pipeline.

Importable and testable without the HTTP server.
"""
