"""The AI stage: Claude's analysis of a file where the routing policy says it pays (docs/ai.md)."""
