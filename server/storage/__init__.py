"""Storage: one small interface (`Storage`) for bytes by key, with backends chosen by URL
scheme (a directory, HTTP, S3). Originals, shared results and detections all go through it;
delivery never learns which backend answered (docs/storage.md)."""

from server.storage.base import Blob, Original, SourceIdentity, Storage, StorageError, Version

__all__ = ["Blob", "Original", "SourceIdentity", "Storage", "StorageError", "Version"]
