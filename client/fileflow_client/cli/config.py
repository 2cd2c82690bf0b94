"""Where the CLI finds its API URL and token: flags, then the environment, then the config file.

`fileflow login` writes `~/.config/fileflow/config.toml` (`$XDG_CONFIG_HOME/fileflow/config.toml`), readable
by its owner only (0600, in a 0700 directory): it holds a bearer token.
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

API_URL_ENV = "FILEFLOW_API_URL"
TOKEN_ENV = "FILEFLOW_TOKEN"  # noqa: S105 - the variable's name, not a token


class ConfigError(Exception):
    """The configuration is missing or unreadable: a usage error."""


@dataclass(frozen=True, slots=True)
class Settings:
    api_url: str
    token: str


def config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "fileflow" / "config.toml"


def read_file(path: Path | None = None) -> dict[str, str]:
    path = path or config_path()
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc
    return {
        key: value for key, value in data.items() if key in ("api_url", "token") and isinstance(value, str)
    }


def resolve(api_url_flag: str | None, token_flag: str | None) -> Settings:
    """Flags override the environment, which overrides the file."""
    stored = read_file()
    api_url = api_url_flag or os.environ.get(API_URL_ENV) or stored.get("api_url")
    token = token_flag or os.environ.get(TOKEN_ENV) or stored.get("token")
    if not api_url:
        raise ConfigError(f"no API URL: run `fileflow login`, set {API_URL_ENV} or pass --api-url")
    if not token:
        raise ConfigError(f"no token: run `fileflow login`, set {TOKEN_ENV} or pass --token")
    return Settings(api_url=api_url, token=token)


def write_file(settings: Settings, path: Path | None = None) -> Path:
    """Written whole, created with mode 0600 (never readable by others, even for a moment)."""
    path = path or config_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # TOML basic strings accept JSON's escapes for the characters a URL or a JWT can hold.
    text = f"api_url = {json.dumps(settings.api_url)}\ntoken = {json.dumps(settings.token)}\n"
    temporary = path.with_name(path.name + ".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as out:
        out.write(text)
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)
    return path
