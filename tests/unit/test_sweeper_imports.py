"""The sweeper ships the runtime and common layers only (infra/constructs/sweeper.py), not the API's."""

from tests.support.fresh_interpreter import run_python

# What only the API layer (layers/api/requirements.txt) carries.
API_LAYER_ONLY = ("fastapi", "starlette", "mangum")


def test_the_sweeper_handler_imports_without_the_api_layer():
    # Given an interpreter in which the API layer's packages cannot be imported
    blocked = "; ".join(f"sys.modules[{name!r}] = None" for name in API_LAYER_ONLY)
    code = f"import sys; {blocked}; import fileflow_api.uploads.sweeper_handler"
    # When the sweeper's handler module is imported, as Lambda does at init
    result = run_python(code, "functions/api:functions/common")
    # Then it imports (else the deployed sweeper fails with Runtime.ImportModuleError)
    assert result.returncode == 0, result.stderr[-2000:]
