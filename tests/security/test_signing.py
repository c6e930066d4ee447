"""Cloudinary-compatible signatures, checked against pycloudinary's own test vectors
(`test/test_utils.py`, api_secret "b"), plus rotation, the version rule and the helper."""

from __future__ import annotations

import pytest

from server import signing
from server.cli import main
from server.signing import payloads, sign_url, signature, verify
from transforms.grammar import parse_url

# (URL without signature, algorithm, long, URL the SDK emits)
SDK_VECTORS = [
    ("/image/upload/c_crop,h_20,w_10/v1234/image.jpg", "sha1", False,
     "/image/upload/s--Ai4Znfl3--/c_crop,h_20,w_10/v1234/image.jpg"),
    ("/image/upload/v1234/image.jpg", "sha1", False, "/image/upload/s----SjmNDA--/v1234/image.jpg"),
    ("/image/upload/sample.jpg", "sha1", False, "/image/upload/s--v2fTPYTu--/sample.jpg"),
    ("/image/upload/sample.jpg", "sha256", False, "/image/upload/s--2hbrSMPO--/sample.jpg"),
    ("/image/upload/sample.jpg", "sha1", True,
     "/image/upload/s--2hbrSMPOjj5BJ4xV7SgFbRDevFaQNUFf--/sample.jpg"),
    ("/image/fetch/v1234/http://google.com/path/to/image.png", "sha1", False,
     "/image/fetch/s--hH_YcbiS--/v1234/http://google.com/path/to/image.png"),
]  # fmt: skip


@pytest.mark.parametrize(("unsigned", "algorithm", "long", "signed"), SDK_VECTORS)
def test_sdk_vectors_sign(unsigned: str, algorithm: str, long: bool, signed: str) -> None:
    assert sign_url(unsigned, "b", algorithm, long) == signed


@pytest.mark.parametrize(("unsigned", "algorithm", "long", "signed"), SDK_VECTORS)
def test_sdk_vectors_verify(unsigned: str, algorithm: str, long: bool, signed: str) -> None:
    t = parse_url(signed)
    assert t.signature is not None
    assert verify(t.signature, t.signed_part, ["b"])
    assert not verify(t.signature, t.signed_part, ["c"])


def test_the_issue_vector_and_its_cloud_name_form() -> None:
    for path in (
        "/image/upload/s--Ai4Znfl3--/c_crop,h_20,w_10/v1234/image.jpg",
        "/test123/image/upload/s--Ai4Znfl3--/c_crop,h_20,w_10/v1234/image.jpg",
    ):
        t = parse_url(path)
        assert t.signature == "Ai4Znfl3"
        assert verify(t.signature, t.signed_part, ["b"])


def test_signature_with_the_version_signed_also_verifies() -> None:
    """The docs' reading: everything after the signature, version included."""
    with_version = signature("c_crop,h_20,w_10/v1234/image.jpg", "b")
    assert with_version == "MaRXzoEC"
    assert verify(with_version, "c_crop,h_20,w_10/v1234/image.jpg", ["b"])
    assert payloads("c_crop,h_20,w_10/v1234/image.jpg") == (
        "c_crop,h_20,w_10/image.jpg",
        "c_crop,h_20,w_10/v1234/image.jpg",
    )


def test_a_folder_after_the_public_id_start_is_not_a_version() -> None:
    """`v2` inside the public id (after a non-component) is signed as it is."""
    assert payloads("photos/v2/x.jpg") == ("photos/v2/x.jpg",)
    assert payloads("x.jpg") == ("x.jpg",)


@pytest.mark.parametrize(
    ("signed_part", "given"),
    [
        ("c_crop,h_20,w_10/v1234/image.jpg", "Ai4Znfl4"),  # one character off
        ("c_crop,h_21,w_10/v1234/image.jpg", "Ai4Znfl3"),  # transformation changed
        ("c_crop,h_20,w_10/v1234/other.jpg", "Ai4Znfl3"),  # public id changed
        ("c_crop,h_20,w_10/v1234/image.png", "Ai4Znfl3"),  # extension changed
        ("c_crop,h_20,w_10/v1234/image.jpg", "Ai4Znfl"),  # wrong length
        ("c_crop,h_20,w_10/v1234/image.jpg", "Ai4Znfl3Ai4Znfl3Ai4Znfl3Ai4Znfl3"),  # 32, wrong
    ],
)
def test_tampering_fails(signed_part: str, given: str) -> None:
    assert not verify(given, signed_part, ["b"])


def test_rotation_accepts_every_configured_secret() -> None:
    signed = signature("w_100/photo.jpg", "old")
    assert verify(signed, "w_100/photo.jpg", ["new", "old"])
    assert verify(signature("w_100/photo.jpg", "new"), "w_100/photo.jpg", ["new", "old"])
    assert not verify(signed, "w_100/photo.jpg", ["new"])


def test_every_candidate_is_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """No early exit: which secret or algorithm matched does not show in the time taken."""
    calls: list[tuple[bytes, bytes]] = []

    def compare(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return a == b

    monkeypatch.setattr(signing.hmac, "compare_digest", compare)
    t = parse_url("/image/upload/s--Ai4Znfl3--/c_crop,h_20,w_10/v1234/image.jpg")
    assert t.signature is not None
    assert verify(t.signature, t.signed_part, ["b", "x", "y"])
    # 3 secrets x 2 payloads (with and without v1234) x 2 algorithms, matched or not.
    assert len(calls) == 12


def test_sign_url_keeps_host_and_query_and_replaces_an_old_signature() -> None:
    url = "https://img.example.com/demo/image/upload/s--AAAAAAAA--/w_300/café.jpg?_a=x"
    signed = sign_url(url, "b")
    assert signed.startswith("https://img.example.com/demo/image/upload/s--")
    assert signed.endswith("--/w_300/caf%C3%A9.jpg?_a=x")
    t = parse_url(signed.split("img.example.com", 1)[1].split("?")[0])
    assert t.signature is not None and verify(t.signature, t.signed_part, ["b"])


def test_sign_url_short_form_and_long_signature() -> None:
    signed = sign_url("/w_300/sample.jpg", "b", long=True)
    t = parse_url(signed)
    assert t.signature is not None and len(t.signature) == 32
    assert verify(t.signature, t.signed_part, ["b"])


def test_sign_url_refuses_unknown_algorithms() -> None:
    with pytest.raises(ValueError, match="algorithm must be one of"):
        sign_url("/x.jpg", "b", "md5")


def test_cli_sign_uses_the_first_secret(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PIXCAST_API_SECRET", "b, old")
    assert main(["sign", "/image/upload/c_crop,h_20,w_10/v1234/image.jpg"]) == 0
    assert capsys.readouterr().out == (
        "/image/upload/s--Ai4Znfl3--/c_crop,h_20,w_10/v1234/image.jpg\n"
    )


def test_cli_sign_flags(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sign", "--secret", "b", "--algorithm", "sha256", "/image/upload/sample.jpg"]) == 0
    assert capsys.readouterr().out == "/image/upload/s--2hbrSMPO--/sample.jpg\n"
    assert main(["sign", "--secret", "b", "--long", "/image/upload/sample.jpg"]) == 0
    assert "s--2hbrSMPOjj5BJ4xV7SgFbRDevFaQNUFf--" in capsys.readouterr().out


def test_cli_sign_without_a_secret_fails(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("PIXCAST_API_SECRET", raising=False)
    assert main(["sign", "/x.jpg"]) == 2
    assert "PIXCAST_API_SECRET" in capsys.readouterr().err
