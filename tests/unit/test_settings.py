import pytest
from pydantic import ValidationError
from pydantic_settings import SettingsError

from fileflow_api.settings import ApiSettings
from fileflow_processor.settings import ProcessorSettings

VALID_API_ENV = {
    "BUCKET_NAME": "fileflow-uploads-example",
    "TABLE_NAME": "fileflow-metadata",
    "QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/fileflow-processing",
    "ALLOWED_ORIGINS": '["https://app.example.com", "http://localhost:5173"]',
}


@pytest.fixture
def api_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name, value in VALID_API_ENV.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


def test_api_settings_read_the_environment(api_env: pytest.MonkeyPatch) -> None:
    # Given a complete environment / When the settings load / Then every field is typed
    settings = ApiSettings()  # type: ignore[call-arg]
    assert settings.bucket_name == "fileflow-uploads-example"
    assert settings.table_name == "fileflow-metadata"
    assert settings.queue_url.endswith("/123456789012/fileflow-processing")
    assert settings.allowed_origins == ("https://app.example.com", "http://localhost:5173")


def test_local_cloud_queue_url_is_accepted(api_env: pytest.MonkeyPatch) -> None:
    api_env.setenv("QUEUE_URL", "http://sqs.us-east-1.localhost.localstack.cloud:4566/000000000000/q-1")
    assert ApiSettings().queue_url.startswith("http://sqs.")  # type: ignore[call-arg]


@pytest.mark.parametrize("missing", list(VALID_API_ENV))
def test_missing_api_variable_fails_naming_it(api_env: pytest.MonkeyPatch, missing: str) -> None:
    # Given one variable missing
    api_env.delenv(missing)
    # When the settings load / Then validation fails on that field
    with pytest.raises(ValidationError) as raised:
        ApiSettings()  # type: ignore[call-arg]
    assert [error["loc"] for error in raised.value.errors()] == [(missing.lower(),)]


def test_allowed_origins_must_be_json(api_env: pytest.MonkeyPatch) -> None:
    api_env.setenv("ALLOWED_ORIGINS", "https://app.example.com")
    with pytest.raises(SettingsError, match="allowed_origins"):
        ApiSettings()  # type: ignore[call-arg]


@pytest.mark.parametrize(
    "origin",
    ["*", "https://app.example.com/", "https://app.example.com/path", "app.example.com", "ftp://x.io"],
)
def test_allowed_origin_must_be_an_exact_origin(api_env: pytest.MonkeyPatch, origin: str) -> None:
    api_env.setenv("ALLOWED_ORIGINS", f'["{origin}"]')
    with pytest.raises(ValidationError):
        ApiSettings()  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("BUCKET_NAME", "Fileflow_Uploads"),
        ("BUCKET_NAME", "ab"),
        ("TABLE_NAME", "bad name"),
        ("QUEUE_URL", "fileflow-processing"),
    ],
)
def test_malformed_names_are_rejected(api_env: pytest.MonkeyPatch, variable: str, value: str) -> None:
    api_env.setenv(variable, value)
    with pytest.raises(ValidationError):
        ApiSettings()  # type: ignore[call-arg]


def test_processor_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the processor's two variables / When loaded / Then typed
    monkeypatch.setenv("TABLE_NAME", "fileflow-metadata")
    monkeypatch.setenv("BUCKET_NAME", "fileflow-uploads-example")
    settings = ProcessorSettings()  # type: ignore[call-arg]
    assert (settings.table_name, settings.bucket_name) == ("fileflow-metadata", "fileflow-uploads-example")


def test_processor_settings_require_the_table(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TABLE_NAME", raising=False)
    monkeypatch.setenv("BUCKET_NAME", "fileflow-uploads-example")
    with pytest.raises(ValidationError, match="table_name"):
        ProcessorSettings()  # type: ignore[call-arg]
