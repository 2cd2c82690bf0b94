"""What Claude returns, as pydantic models: each is a forced tool's input schema and its validator.

Bump PROMPT_VERSION whenever a prompt or a schema changes: it is part of the cache key, so results made
under the old prompt are never served for the new one.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

PROMPT_VERSION = "2026-12-02.1"

Confidence = Annotated[float, Field(ge=0, le=1, description="how sure the analysis is, 0 to 1")]
ShortText = Annotated[str, Field(max_length=2000)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModerationFlags(_Strict):
    adult: bool = Field(description="sexual or adult content")
    violence: bool = Field(description="graphic violence or gore")
    hate: bool = Field(description="hateful symbols or text")
    self_harm: bool = Field(description="self-harm")


ImageCategory = Literal["photo", "screenshot", "document_scan", "illustration", "diagram", "chart", "other"]


class ImageAnalysis(_Strict):
    description: ShortText = Field(description="one or two sentences describing the image")
    tags: Annotated[list[Annotated[str, Field(max_length=40)]], Field(max_length=20)] = Field(
        description="up to 20 lowercase tags"
    )
    text_seen: Annotated[str, Field(max_length=4000)] = Field(
        description="the text visible in the image, verbatim; empty if none"
    )
    category: ImageCategory
    moderation: ModerationFlags
    confidence: Confidence


EntityType = Literal[
    "person", "organization", "location", "date", "amount", "email", "url", "product", "other"
]


class Entity(_Strict):
    name: Annotated[str, Field(max_length=200)]
    type: EntityType


DocumentCategory = Literal[
    "invoice", "receipt", "contract", "report", "letter", "article", "manual", "code", "data", "other"
]


class DocumentAnalysis(_Strict):
    summary: Annotated[str, Field(max_length=4000)] = Field(description="a summary of at most 5 sentences")
    entities: Annotated[list[Entity], Field(max_length=50)] = Field(description="up to 50 named entities")
    sentiment: Literal["positive", "neutral", "negative", "mixed"]
    category: DocumentCategory
    confidence: Confidence


class ChunkSummary(_Strict):
    """One part of a long document, summarised on its own before the whole is analysed."""

    summary: Annotated[str, Field(max_length=2000)] = Field(description="a summary of this part")
    entities: Annotated[list[Entity], Field(max_length=30)]


SCHEMAS: dict[str, type[_Strict]] = {
    "record_image_analysis": ImageAnalysis,
    "record_document_analysis": DocumentAnalysis,
    "record_chunk_summary": ChunkSummary,
}


def tool_definition(name: str, description: str) -> dict[str, Any]:
    """The forced tool for a schema; its `cache_control` caches the tools and system prompt before it."""
    return {
        "name": name,
        "description": description,
        "input_schema": SCHEMAS[name].model_json_schema(),
        "cache_control": {"type": "ephemeral"},
    }
