"""docs/client.md's SDK reference is the package's, and every public method of the SDK is documented."""

from __future__ import annotations

import pytest

from tools import client_reference


def test_the_reference_in_docs_is_rendered_from_the_package():
    text = client_reference.DOC.read_text()
    assert client_reference.START in text
    assert text == client_reference.updated(text), "docs/client.md is stale: run `make client-docs`"


def test_a_public_method_without_a_docstring_fails_the_reference(monkeypatch: pytest.MonkeyPatch):
    from fileflow_client.files import Files

    monkeypatch.setattr(Files.get, "__doc__", None)
    with pytest.raises(client_reference.MissingDocstringError, match=r"Files\.get"):
        client_reference.render()


def test_the_reference_names_every_resource_method():
    rendered = client_reference.render()
    for line in ("- `download(file_id: str, path: Path, *,", "- `decide(review_id: str,", "- `redeliver("):
        assert line in rendered
