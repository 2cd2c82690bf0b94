from tools.export_openapi import OPENAPI_FILE, openapi_document, render


def test_committed_openapi_document_matches_the_routes() -> None:
    # Given the routes as the code declares them / When rendered like `make openapi` does
    rendered = render(openapi_document())
    # Then docs/openapi.json is that document (else: run `make openapi` and commit it)
    assert OPENAPI_FILE.read_text(encoding="utf-8") == rendered, (
        "docs/openapi.json is stale: run `make openapi`"
    )


# Public on purpose: the health check, and Uppy's routes, whose credential is the upload token in the
# path (OpenAPI has no security scheme for a path segment; docs/auth.md says how it is checked).
PUBLIC_OPERATIONS = {"GET /health"}
PATH_TOKEN_PREFIX = "/uppy/{token}/"


def test_every_other_operation_declares_the_bearer_scheme() -> None:
    # Given the API's OpenAPI document
    document = openapi_document()
    assert document["components"]["securitySchemes"]["BearerAuth"]["scheme"] == "bearer"
    operations = {
        f"{method.upper()} {path}": operation
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    }
    # Then every operation that is not public or path-token authenticated declares the bearer scheme
    bearer = {
        name: operation
        for name, operation in operations.items()
        if name not in PUBLIC_OPERATIONS and PATH_TOKEN_PREFIX not in name
    }
    assert "POST /v1/upload-tokens" in bearer
    assert len(bearer) >= 13
    undeclared = sorted(
        name for name, operation in bearer.items() if operation.get("security") != [{"BearerAuth": []}]
    )
    assert undeclared == []
    # and the public ones declare none
    assert all("security" not in operations[name] for name in PUBLIC_OPERATIONS)
