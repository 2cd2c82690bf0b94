from tools.export_openapi import OPENAPI_FILE, openapi_document, render


def test_committed_openapi_document_matches_the_routes() -> None:
    # Given the routes as the code declares them / When rendered like `make openapi` does
    rendered = render(openapi_document())
    # Then docs/openapi.json is that document (else: run `make openapi` and commit it)
    assert OPENAPI_FILE.read_text(encoding="utf-8") == rendered, (
        "docs/openapi.json is stale: run `make openapi`"
    )


def test_every_v1_route_declares_the_bearer_scheme() -> None:
    document = openapi_document()
    assert document["components"]["securitySchemes"]["BearerAuth"]["scheme"] == "bearer"
    upload_operations = [
        (path, method, operation)
        for path, methods in document["paths"].items()
        if path.startswith("/v1/uploads")
        for method, operation in methods.items()
    ]
    assert len(upload_operations) == 6
    for path, method, operation in upload_operations:
        assert operation.get("security") == [{"BearerAuth": []}], (method, path)
