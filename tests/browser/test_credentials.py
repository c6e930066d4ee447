"""The playground on a server with an api_key/api_secret pair: it asks for them once, keeps
them only in the tab's session storage, and signs and uploads with them."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
from playwright.sync_api import Page, expect

from tests.browser.conftest import IMAGES, OPERATOR
from tests.browser.test_playground import open_playground


def test_the_page_asks_once_and_keeps_the_pair_in_the_tab(
    page: Page, guarded_server: str, tmp_path: Path
) -> None:
    anonymous = httpx.get(f"{guarded_server}/playground/api/sign?path=/image/upload/a.jpg")
    assert anonymous.status_code == 401
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=guarded_server)
    open_playground(page, guarded_server)
    page.get_by_role("button", name="Avatar circle").click()
    page.wait_for_selector("body[data-result=ready]")

    page.get_by_role("button", name="Copy signed URL").click()
    dialog = page.locator("#credentials")
    expect(dialog).to_be_visible()
    page.fill("#credentials-key", OPERATOR[0])
    page.fill("#credentials-secret", OPERATOR[1])
    page.click("#credentials-ok")
    expect(page.locator("#copy-status")).to_have_text("Copied to the clipboard.")
    signed = page.evaluate("navigator.clipboard.readText()")
    assert "/image/upload/s--" in signed and httpx.get(signed).status_code == 200

    photo = tmp_path / "guarded.jpg"
    shutil.copy(IMAGES / "dogs.jpg", photo)
    page.set_input_files("#file-input", str(photo))
    expect(page.locator("#upload-status")).to_contain_text("guarded.jpg uploaded")
    expect(dialog).to_be_hidden()  # asked once: the upload reused the stored pair
    stored = page.evaluate("Object.keys(sessionStorage)")
    assert stored == ["pixcast.credentials"]
    assert page.evaluate("localStorage.length") == 0 and page.context.cookies() == []


def test_a_cancelled_request_for_credentials_refuses_the_upload(
    page: Page, guarded_server: str, tmp_path: Path
) -> None:
    open_playground(page, guarded_server)
    photo = tmp_path / "anonymous.jpg"
    shutil.copy(IMAGES / "dogs.jpg", photo)
    page.set_input_files("#file-input", str(photo))
    expect(page.locator("#credentials")).to_be_visible()
    page.get_by_role("button", name="Cancel").click()
    expect(page.locator("#upload-status")).to_contain_text("was refused: Missing credentials")
    assert page.evaluate("sessionStorage.length") == 0
