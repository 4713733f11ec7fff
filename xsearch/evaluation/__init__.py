"""Built-in evaluation: bitext retrieval, cross-lingual QA retrieval, metrics, reports.

``metrics`` is pure numpy; ``bitext`` and ``qa`` run the product's own encoder,
indexing and search; ``report`` renders tables, JSON and plots. Importing this
package stays cheap (no encoder, store or plotting library at import time).
"""

from xsearch.evaluation.metrics import (
    accuracy_at_1,
    average_precision_per_query,
    language_bias,
    mean_average_precision,
    mrr_at_k,
    recall_at_k,
    relevance_matrix,
    same_language_share,
)

__all__ = [
    "accuracy_at_1",
    "average_precision_per_query",
    "language_bias",
    "mean_average_precision",
    "mrr_at_k",
    "recall_at_k",
    "relevance_matrix",
    "same_language_share",
]
