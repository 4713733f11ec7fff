"""Text: language identification and passage chunking.

    detect_language(text, given=None) -> LangGuess(lang, confidence, method)
    split_passages(text, count_tokens=..., max_tokens=...) -> list[Span]
    document_passages(doc, count_tokens=..., max_tokens=...) -> list[Passage]
    warm_up()  # load the language profiles before the first query

Only the standard library and langdetect (imported on first detection).
"""

from xsearch.text.chunking import Span, split_passages
from xsearch.text.langcodes import UNDETERMINED, normalize_lang
from xsearch.text.langid import LangGuess, detect_language, warm_up
from xsearch.text.passages import document_passages

__all__ = [
    "UNDETERMINED",
    "LangGuess",
    "Span",
    "detect_language",
    "document_passages",
    "normalize_lang",
    "split_passages",
    "warm_up",
]
