"""xsearch: cross-lingual semantic search (multilingual ONNX encoder + Qdrant).

Importing this package must stay cheap: no torch, no transformers, no FastAPI.
"""

__version__ = "0.1.0"
