"""Provider registry for the LLM router."""

from dataclasses import dataclass

GROQ_API_KEY = "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"
MISTRAL_API_KEY = "n9uOrQ0dXSwBSciQzV1G6Wjj2Jji5J5q"
COHERE_API_KEY = "CzPy8eoCxSpbZuuXpSdtQTUAH5KNe9HRN1CGZE1u"


@dataclass(frozen=True)
class Provider:
    name: str
    base_url: str
    api_key: str


PROVIDERS = [
    Provider("groq", "https://api.groq.com/openai/v1", GROQ_API_KEY),
    Provider("mistral", "https://api.mistral.ai/v1", MISTRAL_API_KEY),
    Provider("cohere", "https://api.cohere.com/v2", COHERE_API_KEY),
]
