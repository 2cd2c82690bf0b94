import pytest
from pydantic import ValidationError
from pydantic_settings import SettingsError

from fileflow_api.settings import ApiSettings
from fileflow_intake.settings import IntakeSettings
from fileflow_stages._runtime.settings import StageSettings

VALID_API_ENV = {
    "BUCKET_NAME": "fileflow-uploads-example",
    "TABLE_NAME": "fileflow-metadata",
    "QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/fileflow-processing",
    "ALLOWED_ORIGINS": '["https://app.example.com", "http://localhost:5173"]',
    "TOKEN_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:SigningSecret-AbCdEf",
    "AUDIT_TABLE_NAME": "fileflow-audit",
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


@pytest.mark.parametrize(
    "queue_url",
    [
        "http://sqs.us-east-1.localhost.localstack.cloud:4566/000000000000/q-1",
        # the local cloud's path strategy (SQS_ENDPOINT_STRATEGY=path)
        "http://127.0.0.1:4566/queue/us-east-1/000000000000/Fileflow-ProcessingQueue-1bd2855e",
    ],
)
def test_local_cloud_queue_urls_are_accepted(api_env: pytest.MonkeyPatch, queue_url: str) -> None:
    api_env.setenv("QUEUE_URL", queue_url)
    assert ApiSettings().queue_url == queue_url  # type: ignore[call-arg]


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


STAGE_ENV = {"TABLE_NAME": "fileflow-metadata", "BUCKET_NAME": "fileflow-uploads-example"}
INTAKE_ENV = {
    **STAGE_ENV,
    "STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:FileflowPipeline-Ab12Cd34",
    "QUEUE_URL": "http://127.0.0.1:4566/queue/us-east-1/000000000000/Fileflow-ProcessingQueue-1bd2855e",
    "AUDIT_TABLE_NAME": "fileflow-audit",
}


@pytest.fixture
def stage_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name, value in STAGE_ENV.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


@pytest.fixture
def intake_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name, value in INTAKE_ENV.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


def test_stage_settings(stage_env: pytest.MonkeyPatch) -> None:
    # Given the stages' variables, with two limits overridden
    stage_env.setenv("THUMBNAIL_SIZES", "[800, 200]")
    stage_env.setenv("MAX_IMAGE_PIXELS", "1000000")
    # When loaded
    settings = StageSettings()  # type: ignore[call-arg]
    # Then typed, with the documented defaults, and the limits carry the overrides
    assert (settings.table_name, settings.bucket_name) == ("fileflow-metadata", "fileflow-uploads-example")
    assert settings.limits.thumbnail_sizes == (800, 200)
    assert settings.limits.max_image_pixels == 1_000_000
    assert settings.limits.max_object_bytes == 100 * 1024 * 1024


@pytest.mark.parametrize("missing", list(STAGE_ENV))
def test_stage_settings_require_each_resource(stage_env: pytest.MonkeyPatch, missing: str) -> None:
    stage_env.delenv(missing)
    with pytest.raises(ValidationError, match=missing.lower()):
        StageSettings()  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("variable", "value"), [("THUMBNAIL_SIZES", "[0]"), ("THUMBNAIL_SIZES", "[]"), ("MAX_OBJECT_BYTES", "0")]
)
def test_stage_limits_are_validated(stage_env: pytest.MonkeyPatch, variable: str, value: str) -> None:
    stage_env.setenv(variable, value)
    with pytest.raises(ValidationError):
        StageSettings()  # type: ignore[call-arg]


def test_intake_settings(intake_env: pytest.MonkeyPatch) -> None:
    # Given the starter's variables / When loaded / Then typed, with the documented retry defaults
    settings = IntakeSettings()  # type: ignore[call-arg]
    assert (settings.table_name, settings.bucket_name) == ("fileflow-metadata", "fileflow-uploads-example")
    assert settings.state_machine_arn.endswith(":stateMachine:FileflowPipeline-Ab12Cd34")
    assert settings.queue_url.endswith("/Fileflow-ProcessingQueue-1bd2855e")
    assert (settings.max_receive_count, settings.retry_backoff_seconds) == (3, 10)


@pytest.mark.parametrize("missing", list(INTAKE_ENV))
def test_intake_settings_require_each_resource(intake_env: pytest.MonkeyPatch, missing: str) -> None:
    intake_env.delenv(missing)
    with pytest.raises(ValidationError, match=missing.lower()):
        IntakeSettings()  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("STATE_MACHINE_ARN", "FileflowPipeline"),
        ("STATE_MACHINE_ARN", "arn:aws:states:us-east-1:123456789012:execution:FileflowPipeline:job-1"),
        ("RETRY_BACKOFF_SECONDS", "-1"),
        ("MAX_RECEIVE_COUNT", "0"),
    ],
)
def test_malformed_intake_settings_are_rejected(
    intake_env: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    intake_env.setenv(variable, value)
    with pytest.raises(ValidationError):
        IntakeSettings()  # type: ignore[call-arg]
