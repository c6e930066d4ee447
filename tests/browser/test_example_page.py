"""The example page (examples/site/) in a real browser: every image loads."""

from __future__ import annotations

from playwright.sync_api import Page


def test_every_image_on_the_example_page_loads(
    page: Page, server: str, console_errors: list[str]
) -> None:
    page.goto(f"{server}/playground/site/")
    images = page.locator("img")
    assert images.count() >= 8
    for image in images.all():  # lazy images load once they come near the viewport
        image.scroll_into_view_if_needed()
    page.wait_for_function("[...document.images].every((i) => i.complete)")
    loaded = page.evaluate("[...document.images].map((i) => [i.currentSrc, i.naturalWidth])")
    broken = [src for src, width in loaded if width == 0]
    assert broken == []
    hero = loaded[0][0]
    assert "/f_avif/sample.jpg" in hero  # Chromium takes the <picture>'s AVIF source
    assert console_errors == []
