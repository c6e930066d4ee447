"""Regions -> focus box: the part of the source a crop must keep for each detection gravity
(largest face, all faces, objects by label, g_auto's priorities, things to avoid). Pure:
normalised [0,1] Regions in, a Region or None out; no pixels, no detectors."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from detectors.base import Region, envelope

FACE = "face"
SALIENCY = "saliency"
FACE_WORDS = frozenset({"face", "faces"})
"""How URLs name faces (g_face, g_faces, auto:faces_avoid); detectors label each one 'face'."""
TEXT_WORD = "ocr_text"
"""How URLs name text (g_ocr_text, auto:ocr_text_avoid); the text detector labels lines 'text'."""
TEXT = "text"
EYE = "eye"

AVOID_OVERLAP = 0.5
"""A candidate whose box lies more than this much (of its own area) inside an avoided region
belongs to it, like the face of a person to avoid."""


def faces(regions: Iterable[Region]) -> list[Region]:
    """The face regions, best score first."""
    return _best_first(r for r in regions if r.label == FACE)


def largest_face(regions: Iterable[Region]) -> Region | None:
    """g_face: the face with the largest area (the better score breaks a tie), or None."""
    return max(faces(regions), key=lambda r: (r.area, r.score), default=None)


def all_faces(regions: Iterable[Region]) -> Region | None:
    """g_faces: the box holding every face, labelled 'faces', or None."""
    return envelope(faces(regions), "faces")


def eyes(regions: Iterable[Region]) -> Region | None:
    """g_adv_eyes: the box holding every eye (labelled 'eyes'), or None."""
    return envelope((r for r in regions if r.label == EYE), "eyes")


def text_free(regions: Iterable[Region]) -> Region | None:
    """g_ocr_text_avoid: the largest band of the image beside all the text (left of, right
    of, above or below the box holding every line), or None when there is no text."""
    text = envelope((r for r in regions if r.label == TEXT), TEXT)
    if text is None:
        return None
    bands = (
        Region("text_free", 1.0, 0.0, 0.0, text.x, 1.0),
        Region("text_free", 1.0, text.right, 0.0, 1.0 - text.right, 1.0),
        Region("text_free", 1.0, 0.0, 0.0, 1.0, text.y),
        Region("text_free", 1.0, 0.0, text.bottom, 1.0, 1.0 - text.bottom),
    )
    return max(bands, key=lambda band: band.area)


def objects(regions: Iterable[Region], labels: Iterable[str]) -> list[Region]:
    """Regions carrying any of `labels` ('face' and 'faces' both mean faces), best first."""
    wanted = _normalise(labels)
    return _best_first(r for r in regions if r.label in wanted)


def object_focus(regions: Iterable[Region], labels: Sequence[str]) -> Region | None:
    """g_<object> and g_auto:<object>, e.g. g_cat:dog: the box holding every region of the
    requested labels, labelled as the URL names them ('cat:dog'), or None."""
    return envelope(objects(regions, labels), ":".join(labels))


def avoided(regions: Iterable[Region], labels: Iterable[str]) -> list[Region]:
    """The regions a `g_auto:<object>_avoid` crop should leave out, best first."""
    return objects(regions, labels)


def auto_focus(regions: Iterable[Region], avoid: Iterable[str] = ()) -> Region | None:
    """g_auto: all faces, else the most prominent detected object, else saliency; regions
    of the `avoid` labels, and whatever lies inside them, never become the focus. None
    when nothing is left (the caller falls back to the centre)."""
    pool = list(regions)
    skip = avoided(pool, avoid)
    candidates = [r for r in pool if not _inside_any(r, skip)]
    return (
        all_faces(candidates)
        or max(_objects_only(candidates), key=_prominence, default=None)
        or next((r for r in candidates if r.label == SALIENCY), None)
    )


def _objects_only(regions: Iterable[Region]) -> list[Region]:
    return [r for r in regions if r.label not in (FACE, SALIENCY, TEXT, EYE)]


def _prominence(region: Region) -> float:
    # A large, sure object is the subject; a small one scoring a little higher is a detail.
    return region.area * region.score


def _inside_any(region: Region, others: Sequence[Region]) -> bool:
    share = region.area or 1.0  # a degenerate box belongs where its corner is
    return any(region.intersection(o) / share > AVOID_OVERLAP or region == o for o in others)


def _normalise(labels: Iterable[str]) -> set[str]:
    names = {TEXT_WORD: TEXT} | dict.fromkeys(FACE_WORDS, FACE)
    return {names.get(label, label) for label in labels}


def _best_first(regions: Iterable[Region]) -> list[Region]:
    return sorted(regions, key=lambda r: r.score, reverse=True)
