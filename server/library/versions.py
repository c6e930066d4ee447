"""What delivery asks the library: a URL's `v<version>` must be the asset's current one,
so an old version's URL never serves the new bytes. Assets the library does not know
(files put in the originals by hand) and `v1` (the SDKs' default for ids in folders) pass.
Conditions on tags and context, and g_custom crops, read the stored ones.
"""

from __future__ import annotations

from server.concurrency import run_io
from server.origins import wanted
from server.state import Services
from server.storage.s3 import S3Storage
from transforms.errors import NotFound
from transforms.model import Delivery, Transformation
from transforms.variables import SourceFacts, reads_coordinates, reads_source_facts

LIBRARY_TYPES = (Delivery.UPLOAD, Delivery.PRIVATE, Delivery.AUTHENTICATED)


async def check_version(services: Services, t: Transformation) -> float | None:
    """404 when the URL names a version of a library asset that is not the current one.

    For an asset whose original is in S3, also when its current bytes were stored: a copy
    of the object confirmed before then (this replica fetched it before another replica's
    upload replaced it) is revalidated at once instead of after remote_ttl. None otherwise.
    """
    if services.library is None or t.delivery not in LIBRARY_TYPES:
        return None
    versioned = t.version is not None and t.version != 1
    in_bucket = _in_bucket(services, t)
    if not versioned and not in_bucket:
        return None
    found = await run_io(services.library.lookup, t.delivery.value, t.public_id)
    if found is None:
        return None
    if versioned and found.version != t.version:
        raise NotFound(f"Resource not found - {t.public_id} (no version v{t.version})")
    # A version is the whole second its bytes were stored in (or a later one): a copy
    # confirmed within that second may predate them, so it counts from the next.
    return float(found.version + 1) if in_bucket else None


def _in_bucket(services: Services, t: Transformation) -> bool:
    found = services.origins.mapping_of(wanted(t).path)
    return found is not None and isinstance(found[1], S3Storage)


async def source_facts(services: Services, t: Transformation) -> SourceFacts | None:
    """What `t` reads of the asset's stored metadata: tags and context when its conditions
    read them, custom coordinates when it crops with g_custom (or asks fl_getinfo). None
    when it reads none: the result then does not depend on them, and no lookup is made.
    An asset the library does not know has none."""
    tags, coordinates = reads_source_facts(t.steps), reads_coordinates(t.steps)
    if not tags and not coordinates:
        return None
    if services.library is None or t.delivery not in LIBRARY_TYPES:
        return SourceFacts()
    found = await run_io(services.library.lookup, t.delivery.value, t.public_id)
    if found is None:
        return SourceFacts()
    return SourceFacts(
        found.tags if tags else (),
        dict(found.context) if tags else {},
        coordinates=found.coordinates if coordinates else (),
    )
