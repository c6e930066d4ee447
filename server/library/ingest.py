"""One upload, in the order that keeps the library consistent through a crash: the header
(and the detectors) read the bytes, which are then put in place whole (a temporary file
renamed in the originals directory, or one PUT to an S3 origin), and only then is the row
committed. A crash before that leaves the old asset; after it, the new bytes (with the old
row until the commit); never a row without bytes.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from detectors.service import RegionService
from server.library import params, tagging
from server.library.intake import Header, Incoming, check_header
from server.library.repository import Box, Resource
from server.library.service import Library, file_key
from transforms import formats
from transforms.errors import UnsupportedMediaType
from transforms.model import Limits


@dataclass(frozen=True)
class UploadOptions:
    """The upload's parameters, read and checked (server.library.params)."""

    public_id: str
    type: str = "upload"
    overwrite: bool = True
    tags: tuple[str, ...] = ()
    context: Mapping[str, str] | None = None
    coordinates: tuple[Box, ...] = ()
    faces: bool = False
    categorization: str | None = None
    auto_tagging: float | None = None

    @property
    def detectors(self) -> tuple[str, ...]:
        """What to detect at upload: faces for `faces`, everything for categorization."""
        if self.categorization:
            return tagging.TAGGING_DETECTORS
        return ("faces",) if self.faces else ()


def options_from(form: Mapping[str, str], filename: str, signed: bool) -> UploadOptions:
    params.refuse_left_out(form)
    return UploadOptions(
        public_id=params.choose_public_id(params.naming(form), filename),
        type=params.delivery_type(form),
        # Unsigned uploads never replace an asset (as on Cloudinary).
        overwrite=params.flag(form, "overwrite", True) and signed,
        tags=params.tag_list(form.get("tags")),
        context=params.context_map(form.get("context")),
        coordinates=params.boxes(form.get("custom_coordinates"), "custom_coordinates"),
        faces=params.flag(form, "faces", False),
        categorization=form.get("categorization") or None,
        auto_tagging=params.threshold(form.get("auto_tagging")),
    )


@dataclass(frozen=True)
class Placed:
    """The stored asset; `existing` when overwrite was off and the asset was kept."""

    resource: Resource
    existing: bool = False


def place(
    library: Library,
    options: UploadOptions,
    incoming: Incoming,
    limits: Limits,
    detection: RegionService | None,
) -> Placed:
    """Store one upload (blocking: run it off the event loop)."""
    old = library.repository.get(options.type, options.public_id)
    if old is not None and not options.overwrite:
        return Placed(old, existing=True)
    checked: list[tuple[Header, tagging.Detections]] = []

    def check() -> None:
        header = check_header(incoming.data, limits)
        checked.append((header, tagging.detect(detection, incoming.data, options.detectors)))

    header = sniffed(incoming)
    key = file_key(options.type, options.public_id, header.format)
    stored_as = library.blobs.put(key, incoming.data, check)
    header, detections = checked[0]
    resource = _resource(options, incoming, header, detections, _next_version(old))
    library.repository.save(resource)
    if old is not None and library.key(old) != key:
        library.blobs.delete(library.key(old))  # the same id in another format
    tagging.seed(detection, stored_as, detections)
    return Placed(resource)


def sniffed(incoming: Incoming) -> Header:
    """Only the format is needed before the file exists (it names the file)."""
    found = formats.sniff(incoming.data[:4096])
    if found is None:
        raise UnsupportedMediaType("Invalid image file: not an image format pixcast reads")
    return Header(found, 0, 0)


def _next_version(old: Resource | None) -> int:
    """Seconds since the epoch, as Cloudinary's versions; always above the last one."""
    now = int(time.time())
    return now if old is None else max(now, old.version + 1)


def _resource(
    options: UploadOptions,
    incoming: Incoming,
    header: Header,
    detections: tagging.Detections,
    version: int,
) -> Resource:
    tags = options.tags
    info: dict[str, object] = {}
    if options.categorization:
        info = tagging.categorization(detections, options.categorization)
        if options.auto_tagging is not None:
            found = tagging.auto_tags(detections, options.auto_tagging)
            tags = tuple(dict.fromkeys(tags + found))
    return Resource(
        public_id=options.public_id,
        type=options.type,
        version=version,
        format=header.format,
        width=header.width,
        height=header.height,
        bytes=len(incoming.data),
        etag=hashlib.md5(incoming.data).hexdigest(),
        created_at=datetime.fromtimestamp(version, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        original_filename=Path(incoming.filename).stem if incoming.filename else "file",
        tags=tags,
        context=dict(options.context or {}),
        coordinates=options.coordinates,
        faces=tagging.face_boxes(detections, header.width, header.height),
        info=info,
    )


def renamed(resource: Resource, public_id: str, type_: str) -> Resource:
    return replace(resource, public_id=public_id, type=type_)
