"""The playground in a real browser: load, type, errors, detections, uploads, copying."""

from __future__ import annotations

import base64
import shutil
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.conftest import IMAGES

RESULT_SIZE = """([w, h]) => {
  const img = document.getElementById("result");
  const ready = document.body.dataset.result === "ready";
  return ready && img.naturalWidth === w && img.naturalHeight === h;
}"""


def open_playground(page: Page, server: str, state: str = "") -> None:
    page.goto(f"{server}/playground/{state}")
    page.wait_for_selector("body[data-ready=yes]")


def wait_for_result(page: Page, width: int, height: int) -> None:
    page.wait_for_function(RESULT_SIZE, arg=[width, height])


def test_loads_with_no_console_errors(page: Page, server: str, console_errors: list[str]) -> None:
    open_playground(page, server)
    page.wait_for_selector("body[data-result=ready]")
    assert page.title() == "pixcast playground"
    names = page.locator("#image-list button span").all_inner_texts()
    assert names == ["astronaut", "café terrace", "dogs", "fig", "logo", "sample"]
    assert page.locator("#image-list button[aria-pressed=true]").inner_text().startswith("sample")
    wait_for_result(page, 600, 400)  # the default transformation, c_fill,w_600,h_400
    assert console_errors == []


def test_typing_a_transformation_updates_the_result(page: Page, server: str) -> None:
    open_playground(page, server)
    field = page.locator("#transformation")
    field.fill("")
    field.press_sequentially("c_fill,w_321,h_123", delay=15)
    wait_for_result(page, 321, 123)
    info = page.inner_text("#result-info")
    assert info.startswith("321\N{MULTIPLICATION SIGN}123 · JPEG · ") and " ms" in info
    assert page.input_value("#c-width") == "321" and page.input_value("#c-crop") == "fill"
    assert "Crop mode fill" in page.inner_text("#steps")
    assert page.inner_text("#canonical") == "c_fill,h_123,w_321"

    page.select_option("#c-crop", "pad")  # controls write into the string
    expect(field).to_have_value("c_pad,w_321,h_123")
    page.select_option("#c-format", "webp")
    expect(field).to_have_value("c_pad,w_321,h_123/f_webp")
    expect(page.locator("#url")).to_contain_text("/c_pad,h_123,w_321/f_webp/sample.jpg")
    expect(page.locator("#result-info")).to_contain_text("WEBP")
    wait_for_result(page, 321, 123)
    page.select_option("#c-effect", "sepia")
    expect(field).to_have_value("c_pad,w_321,h_123,e_sepia/f_webp")
    page.locator("#c-level").fill("35")
    expect(field).to_have_value("c_pad,w_321,h_123,e_sepia:35/f_webp")
    expect(page.locator("#url")).to_contain_text("/c_pad,e_sepia:35,h_123,w_321/f_webp/sample.jpg")
    wait_for_result(page, 321, 123)
    expect(page.locator("#c-level-value")).to_have_text("35")


def test_an_invalid_parameter_shows_its_error_highlighted(page: Page, server: str) -> None:
    open_playground(page, server)
    page.fill("#transformation", "c_fill,w_abc,h_200")
    expect(page.locator("#validation")).to_contain_text("Invalid width in transformation: abc")
    expect(page.locator("#mirror mark.bad")).to_have_text("w_abc")
    expect(page.locator("#transformation")).to_have_attribute("aria-invalid", "true")

    # An error only the render finds (no pixels needed to parse it) is highlighted too.
    page.fill("#transformation", "c_scale,g_face,w_200")
    expect(page.locator("#result-error")).to_contain_text("cannot be used with c_scale")
    expect(page.locator("#mirror mark.bad")).to_have_text("c_scale")


def test_detection_overlay_for_a_face(page: Page, server: str) -> None:
    open_playground(page, server, "#t=c_thumb,g_face,w_200,h_200&image=astronaut.jpg")
    wait_for_result(page, 200, 200)
    face = page.locator("#overlay .box.face")
    expect(face).to_have_count(1)
    expect(page.locator("#overlay .box.crop")).to_have_count(1)
    expect(page.locator("#detections")).to_contain_text("Found 1 face")
    picture = page.locator("#original").bounding_box()
    box = face.bounding_box()
    assert picture is not None and box is not None
    # The astronaut's face is in the upper middle of the photo.
    centre_x = (box["x"] + box["width"] / 2 - picture["x"]) / picture["width"]
    centre_y = (box["y"] + box["height"] / 2 - picture["y"]) / picture["height"]
    assert 0.3 < centre_x < 0.6 and 0.1 < centre_y < 0.4
    assert page.inner_text("#original-info") == "512\N{MULTIPLICATION SIGN}512 · JPG · 82.2 KB"


def test_upload_by_file_and_by_drop_and_a_refusal(page: Page, server: str, tmp_path: Path) -> None:
    open_playground(page, server)
    photo = tmp_path / "my holiday.jpg"
    shutil.copy(IMAGES / "dogs.jpg", photo)
    page.set_input_files("#file-input", str(photo))
    expect(page.locator("#upload-status")).to_contain_text(
        "my holiday.jpg uploaded (1065\N{MULTIPLICATION SIGN}1600"
    )
    uploaded = page.locator("#upload-list button[aria-pressed=true]")
    expect(uploaded).to_contain_text("my-holiday-")
    page.wait_for_selector("body[data-result=ready]")
    expect(page.locator("#url")).to_contain_text("/playground/uploads/image/upload/")

    logo = base64.b64encode((IMAGES / "logo.png").read_bytes()).decode()
    dropped = page.evaluate_handle(
        """(data) => {
          const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
          const transfer = new DataTransfer();
          transfer.items.add(new File([bytes], "dropped logo.png", { type: "image/png" }));
          return transfer;
        }""",
        logo,
    )
    page.dispatch_event("#drop-zone", "drop", {"dataTransfer": dropped})
    expect(page.locator("#upload-status")).to_contain_text(
        "dropped logo.png uploaded (256\N{MULTIPLICATION SIGN}256"
    )
    expect(page.locator("#upload-list button")).to_have_count(2)

    text = tmp_path / "notes.txt"
    text.write_text("this is not a picture\n")
    page.set_input_files("#file-input", str(text))
    status = page.locator("#upload-status")
    expect(status).to_contain_text(
        "notes.txt was refused: That file is not an image pixcast can read"
    )
    expect(status).to_have_class("status error")
    expect(page.locator("#upload-list button")).to_have_count(2)


def test_gallery_and_copy_buttons(page: Page, server: str) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server)
    open_playground(page, server)
    page.get_by_role("button", name="Avatar circle").click()
    wait_for_result(page, 150, 150)
    assert page.input_value("#transformation") == "c_thumb,g_face,w_150,h_150/r_max/f_png"

    page.get_by_role("button", name="Copy URL").click()
    expect(page.locator("#copy-status")).to_have_text("Copied to the clipboard.")
    url = f"{server}/image/upload/c_thumb,g_face,h_150,w_150/r_max/f_png/astronaut.jpg"
    assert page.evaluate("navigator.clipboard.readText()") == url

    page.get_by_role("button", name="Copy srcset").click()
    srcset = page.evaluate("navigator.clipboard.readText()")
    assert "dpr_2.0,g_face,h_150,w_150/r_max/f_png/astronaut.jpg 2x" in srcset
    assert " 3x" in srcset and 'width="150"' in srcset

    page.get_by_role("button", name="Copy <img> tag").click()
    tag = page.evaluate("navigator.clipboard.readText()")
    assert (
        tag == f'<img src="{url}" width="150" height="150" alt="" loading="lazy" decoding="async">'
    )

    signed = page.get_by_role("button", name="Copy signed URL")
    expect(signed).to_be_disabled()
    expect(page.locator("#signing-note")).to_contain_text("URL signing is off on this server")
