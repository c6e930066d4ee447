"""Ready examples for the playground's gallery, each checked against this server's grammar.

An example whose transformation this server does not parse (an effect it lacks) is listed
as unavailable with the reason, instead of failing when clicked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from server.playground.explain import Invalid, explain


@dataclass(frozen=True)
class Example:
    """`image` is the file the example was made for; the page uses the selected image
    when the originals do not have it."""

    title: str
    description: str
    image: str
    transformation: str


EXAMPLES = (
    Example(
        "Face thumbnail",
        "A square thumbnail framed on the face",
        "astronaut.jpg",
        "c_thumb,g_face,w_200,h_200",
    ),
    Example(
        "Avatar circle",
        "A round avatar, transparent around the circle",
        "astronaut.jpg",
        "c_thumb,g_face,w_150,h_150/r_max/f_png",
    ),
    Example(
        "Responsive hero",
        "A 16:9 banner with automatic quality and format",
        "sample.jpg",
        "c_fill,ar_16:9,w_1200/q_auto/f_auto",
    ),
    Example(
        "Anonymised faces",
        "Every face pixelated, the rest untouched",
        "astronaut.jpg",
        "e_pixelate_faces",
    ),
    Example(
        "Pet portrait",
        "A square crop that the detectors place on the dogs",
        "dogs.jpg",
        "c_fill,g_auto,w_400,h_400",
    ),
    Example(
        "Product on white",
        "Padded to a square on a white background",
        "fig.jpg",
        "c_pad,w_500,h_500,b_white",
    ),
    Example(
        "Old photograph",
        "Sepia, rounded corners and a dark border",
        "café terrace.jpg",
        "c_fill,w_480,h_360/e_sepia:70/r_16,bo_6px_solid_rgb:3b2f2f",
    ),
    Example(
        "Black and white",
        "Grey tones with a little more contrast",
        "sample.jpg",
        "c_fill,w_640,h_400,g_south/e_grayscale/e_contrast:30",
    ),
    Example(
        "Blurred backdrop",
        "A soft background image for text",
        "sample.jpg",
        "c_fill,w_800,h_300/e_blur:600/q_auto:eco",
    ),
    Example(
        "Logo as WebP",
        "A transparent PNG, smaller as WebP",
        "logo.png",
        "w_128/f_webp",
    ),
)


def gallery(named: Mapping[str, str], max_dpr: float) -> list[dict[str, object]]:
    """The examples as JSON objects, with `available` and, when not, the `reason`."""
    listed: list[dict[str, object]] = []
    for example in EXAMPLES:
        item: dict[str, object] = {
            "title": example.title,
            "description": example.description,
            "image": example.image,
            "transformation": example.transformation,
            "available": True,
        }
        try:
            explain(example.transformation, named, max_dpr)
        except Invalid as error:
            reason = error.message.split(" (")[0]  # the list of what is known is too long here
            item |= {"available": False, "reason": f"Not on this server: {reason}"}
        listed.append(item)
    return listed
