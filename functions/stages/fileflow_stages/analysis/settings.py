"""The analysis stage's own settings (environment `ANALYSIS_*`), validated once per execution environment."""

from __future__ import annotations

from pydantic import PositiveFloat, PositiveInt
from pydantic_settings import BaseSettings, SettingsConfigDict

from fileflow_stages.analysis.features import AnalysisLimits
from fileflow_stages.analysis.ocr import OcrLimits, OcrModel

_DEFAULTS = AnalysisLimits()


class AnalysisSettings(BaseSettings):
    model_config = SettingsConfigDict(frozen=True, extra="ignore", env_prefix="ANALYSIS_")

    # "tiny" or "small" (both bundled in the wheel); "medium" would download, so it is not admitted.
    ocr_model: OcrModel = "small"
    ocr_timeout_seconds: PositiveFloat = _DEFAULTS.ocr.timeout_s
    ocr_max_pixels: PositiveInt = _DEFAULTS.ocr.max_pixels
    ocr_max_lines: PositiveInt = _DEFAULTS.ocr.max_lines
    ocr_max_chars: PositiveInt = _DEFAULTS.ocr.max_chars
    original_head_bytes: PositiveInt = _DEFAULTS.original_head_bytes
    max_pixels: PositiveInt = _DEFAULTS.max_pixels
    max_text_chars: PositiveInt = _DEFAULTS.max_text_chars

    @property
    def limits(self) -> AnalysisLimits:
        return AnalysisLimits(
            original_head_bytes=self.original_head_bytes,
            max_pixels=self.max_pixels,
            max_text_chars=self.max_text_chars,
            ocr=OcrLimits(
                max_pixels=self.ocr_max_pixels,
                timeout_s=self.ocr_timeout_seconds,
                max_lines=self.ocr_max_lines,
                max_chars=self.ocr_max_chars,
            ),
        )
