"""Runtime encoder: model bundles run with onnxruntime and tokenizers only.

Importing this package never imports torch, transformers or
sentence-transformers (a test proves it).
"""

from xsearch.encoder.core import KINDS, Encoder, EncodeStats, Kind

__all__ = ["Encoder", "EncodeStats", "Kind", "KINDS"]
