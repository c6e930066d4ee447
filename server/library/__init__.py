"""The media library: uploads into the originals, their metadata (versions, tags, context,
coordinates, detections) in a database, and the Cloudinary-compatible upload and admin APIs.

Delivery reads it only through `lookup` (versions, tags, coordinates); it never writes.
"""
