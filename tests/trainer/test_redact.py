"""Credentials in a URI never reach a printed line: passwords, bare tokens, secret query values."""

import pytest

from trainer.config.redact import mask_uri


@pytest.mark.parametrize(
    ("uri", "masked"),
    [
        ("http://u:secretpw@127.0.0.1:1", "http://u:***@127.0.0.1:1"),
        ("https://alice:pw@mlflow.example.com/api", "https://alice:***@mlflow.example.com/api"),
        ("https://ghp_abc123@mlflow.example.com", "https://***@mlflow.example.com"),
        (
            "postgresql+psycopg2://mlflow:hunter2@db:5432/runs",
            "postgresql+psycopg2://mlflow:***@db:5432/runs",
        ),
        ("mysql://root:p@ss@db/runs", "mysql://root:***@db/runs"),
        (
            "https://host/runs?token=abc&page=2&access_token=def",
            "https://host/runs?token=***&page=2&access_token=***",
        ),
        (
            "https://acct.blob.core.windows.net/c?sv=2020&sig=Zm9v%2B&se=2030",
            "https://acct.blob.core.windows.net/c?sv=2020&sig=***&se=2030",
        ),
        (
            "https://s3/x?X-Amz-Credential=AKIA&X-Amz-Signature=beef&api_key=1&Password=2",
            "https://s3/x?X-Amz-Credential=***&X-Amz-Signature=***&api_key=***&Password=***",
        ),
        ("sqlite:////tmp/store/mlflow.db", "sqlite:////tmp/store/mlflow.db"),
        ("sqlite:///mlflow.db?mode=ro", "sqlite:///mlflow.db?mode=ro"),
        ("http://127.0.0.1:5000", "http://127.0.0.1:5000"),
        ("https://host/p?email=a@b.c", "https://host/p?email=a@b.c"),
    ],
)
def test_a_uri_keeps_everything_but_its_secrets(uri, masked):
    assert mask_uri(uri) == masked


def test_masking_twice_changes_nothing_more():
    once = mask_uri("https://u:pw@host/x?secret=s")
    assert mask_uri(once) == once == "https://u:***@host/x?secret=***"


def test_uris_inside_an_error_message_are_masked_and_the_rest_is_kept():
    message = (
        "error: tracking.uri=http://u:secretpw@127.0.0.1:1 is unreachable "
        "(HTTPConnectionPool: Max retries exceeded with url: "
        "'http://u:secretpw@127.0.0.1:1/api/2.0/mlflow/experiments?token=t0k3n')"
    )
    masked = mask_uri(message)
    assert "secretpw" not in masked and "t0k3n" not in masked
    assert masked == (
        "error: tracking.uri=http://u:***@127.0.0.1:1 is unreachable "
        "(HTTPConnectionPool: Max retries exceeded with url: "
        "'http://u:***@127.0.0.1:1/api/2.0/mlflow/experiments?token=***')"
    )


def test_text_without_a_uri_is_unchanged():
    text = "optimizer.lr=-1 is not allowed: it must be > 0 (user: me@example.com)"
    assert mask_uri(text) == text
