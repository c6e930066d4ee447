"""The library as one shared resource of the app: metadata repository, where the originals
live (the directory or S3 origins) and credentials, built in the lifespan and reached as
`services.library`."""

from __future__ import annotations

from dataclasses import dataclass

from server.credentials import Credentials
from server.library.blobs import OriginalsDirectory
from server.library.originals import LibraryOriginals
from server.library.repository import Repository, Resource, engine_url
from server.origins import Origins
from server.settings import Settings


@dataclass(frozen=True)
class Library:
    repository: Repository
    blobs: LibraryOriginals
    credentials: Credentials

    def key(self, resource: Resource) -> str:
        """The resource's key in the library's originals (below the originals root, or the
        delivery path an S3 origin maps)."""
        return file_key(resource.type, resource.public_id, resource.format)

    def lookup(self, type_: str, public_id: str) -> Resource | None:
        """Read-only lookup for delivery (version, tags, context, custom coordinates);
        None when the library has no such asset, or was never written."""
        if not self.repository.exists():
            return None
        return self.repository.get(type_, public_id)

    def close(self) -> None:
        self.repository.close()


def file_key(type_: str, public_id: str, fmt: str) -> str:
    """upload → `<id>.<fmt>`; private and authenticated in their own folder, as delivery reads."""
    folder = "" if type_ == "upload" else f"{type_}/"
    return f"{folder}{public_id}.{fmt}"


def build_library(settings: Settings, origins: Origins | None = None) -> Library:
    """The library; with `origins`, uploads under an S3-mapped prefix go to that bucket."""
    library = Library(
        Repository(engine_url(settings.database_url, settings.library_path)),
        LibraryOriginals(OriginalsDirectory(settings.originals), origins),
        Credentials.of(settings),
    )
    library.blobs.sweep()
    return library
