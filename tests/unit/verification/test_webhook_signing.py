"""Standard Webhooks signatures, checked with the standardwebhooks package."""

import base64
import binascii
import time

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from connectors.verification.errors import WebhookSecretError
from connectors.verification.webhooks import (
    decode_secret,
    generate_secret,
    sign,
    signed_headers,
    webhook_id_for,
)

BODY = b'{"type":"verification.completed","data":{"verdict":"pass"}}'


def test_signature_verifies() -> None:
    secret = generate_secret()
    headers = signed_headers(secret, "msg_1", int(time.time()), BODY)

    payload = Webhook(secret).verify(BODY, headers)

    assert payload["data"]["verdict"] == "pass"


def test_tampered_body_fails() -> None:
    secret = generate_secret()
    headers = signed_headers(secret, "msg_1", int(time.time()), BODY)

    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY.replace(b"pass", b"fail"), headers)


def test_other_tenant_secret_fails() -> None:
    headers = signed_headers(generate_secret(), "msg_1", int(time.time()), BODY)

    with pytest.raises(WebhookVerificationError):
        Webhook(generate_secret()).verify(BODY, headers)


def test_known_signature() -> None:
    # The test vector of the Standard Webhooks specification's README.
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'

    signature = sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body)

    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_header_names() -> None:
    headers = signed_headers(generate_secret(), "msg_1", 1700000000, BODY)

    assert headers["webhook-id"] == "msg_1"
    assert headers["webhook-timestamp"] == "1700000000"
    assert headers["webhook-signature"].startswith("v1,")


def test_secret_round_trip() -> None:
    secret = generate_secret()

    assert base64.b64encode(decode_secret(secret)).decode() == secret[len("whsec_") :]


def test_invalid_secret_translated() -> None:
    with pytest.raises(WebhookSecretError, match="not valid base64") as caught:
        decode_secret("whsec_not*base64")

    assert isinstance(caught.value.__cause__, binascii.Error)


def test_empty_secret_rejected() -> None:
    with pytest.raises(WebhookSecretError, match="empty"):
        decode_secret("whsec_")


def test_webhook_id_stable() -> None:
    first = webhook_id_for("tenant-a", "event-1")

    assert webhook_id_for("tenant-a", "event-1") == first
    assert webhook_id_for("tenant-b", "event-1") != first
    assert first.startswith("msg_")


@pytest.mark.parametrize("holder", ["current", "previous"])
def test_rotation_signs_with_both(holder: str) -> None:
    current, previous = generate_secret(), generate_secret()
    headers = signed_headers(current, "msg_1", int(time.time()), BODY, (previous,))
    receiver_secret = current if holder == "current" else previous

    payload = Webhook(receiver_secret).verify(BODY, headers)

    assert payload["data"]["verdict"] == "pass"


def test_rotation_rejects_unrelated_secret() -> None:
    headers = signed_headers(
        generate_secret(), "msg_1", int(time.time()), BODY, (generate_secret(),)
    )

    with pytest.raises(WebhookVerificationError):
        Webhook(generate_secret()).verify(BODY, headers)
