"""docker-compose.yml / docker-compose.cluster.yml / Dockerfile wiring (no Docker engine here)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from xsearch.settings import Settings

yaml = pytest.importorskip("yaml")

ROOT = Path(__file__).resolve().parents[2]
SETTINGS_ENV = {f"XSEARCH_{name.upper()}" for name in Settings.model_fields}


def _load(name: str) -> dict:
    return yaml.safe_load((ROOT / name).read_text(encoding="utf-8"))


def _env(service: dict) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):  # "KEY=value" form
        env = dict(item.split("=", 1) for item in env)
    return {k: str(v) for k, v in env.items()}


def _qdrant_services(compose: dict) -> dict[str, dict]:
    return {n: s for n, s in compose["services"].items() if "qdrant/qdrant" in s.get("image", "")}


def _check_qdrant(name: str, svc: dict, volumes: dict) -> None:
    image = svc["image"]
    assert re.fullmatch(r"qdrant/qdrant:v\d+\.\d+\.\d+", image), f"{name}: pin a version ({image})"
    mounts = [v.split(":") for v in svc["volumes"]]
    assert any(m[1] == "/qdrant/storage" and m[0] in volumes for m in mounts), (
        f"{name}: storage must be a named volume"
    )
    test = svc["healthcheck"]["test"]
    assert test[0] in ("CMD", "CMD-SHELL") and "6333" in " ".join(test) and "readyz" in " ".join(
        test
    )
    assert "curl" not in " ".join(test) and "wget" not in " ".join(test)  # not in the image


def _check_api(api: dict, qdrant_names: set[str]) -> dict[str, str]:
    assert api["build"] in (".", {"context": "."})
    assert "8000:8000" in api["ports"]
    deps = api["depends_on"]
    assert set(deps) == qdrant_names
    assert all(d["condition"] == "service_healthy" for d in deps.values())
    env = _env(api)
    unknown = {k for k in env if k.startswith("XSEARCH_")} - SETTINGS_ENV
    assert not unknown, f"environment names Settings does not read: {unknown}"
    url = env["XSEARCH_QDRANT_URL"]
    host = re.fullmatch(r"http://([\w-]+):6333", url)
    assert host and host.group(1) in qdrant_names, url
    assert env["XSEARCH_HOST"] == "0.0.0.0" and env["XSEARCH_PORT"] == "8000"
    assert "/ready" in " ".join(api["healthcheck"]["test"])
    return env


def test_single_node_compose() -> None:
    compose = _load("docker-compose.yml")
    qdrant = _qdrant_services(compose)
    assert set(qdrant) == {"qdrant"}
    _check_qdrant("qdrant", qdrant["qdrant"], compose["volumes"])
    assert "6333:6333" in qdrant["qdrant"]["ports"]
    env = _check_api(compose["services"]["api"], set(qdrant))
    assert env["XSEARCH_QDRANT_URL"] == "http://qdrant:6333"


def test_cluster_compose() -> None:
    compose = _load("docker-compose.cluster.yml")
    qdrant = _qdrant_services(compose)
    assert len(qdrant) == 3
    images = {s["image"] for s in qdrant.values()}
    assert images == {_load("docker-compose.yml")["services"]["qdrant"]["image"]}
    for name, svc in qdrant.items():
        _check_qdrant(name, svc, compose["volumes"])
        assert _env(svc)["QDRANT__CLUSTER__ENABLED"] == "true"
    # one peer starts the cluster, the others bootstrap from it over p2p port 6335
    first = [n for n, s in qdrant.items() if "--bootstrap" not in s["command"]]
    assert len(first) == 1 and f"--uri http://{first[0]}:6335" in qdrant[first[0]]["command"]
    for name, svc in qdrant.items():
        if name != first[0]:
            assert f"--bootstrap http://{first[0]}:6335" in svc["command"]
            assert svc["depends_on"][first[0]]["condition"] == "service_healthy"
    volumes = {s["volumes"][0].split(":")[0] for s in qdrant.values()}
    assert len(volumes) == 3, "each node needs its own storage"
    env = _check_api(compose["services"]["api"], set(qdrant))
    shards, replicas = int(env["XSEARCH_SHARD_NUMBER"]), int(env["XSEARCH_REPLICATION_FACTOR"])
    assert shards >= 3 and 2 <= replicas <= 3
    Settings(shard_number=shards, replication_factor=replicas)  # valid values


def test_dockerfile_builds_bundle_and_pins_cpu_torch() -> None:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"torch==\d+\.\d+\.\d+ --index-url https://download.pytorch.org/whl/cpu", text)
    assert "xsearch model build" in text
    assert 'CMD ["xsearch", "serve", "--host", "0.0.0.0", "--port", "8000"]' in text
    assert "EXPOSE 8000" in text
    # the serving stage copies the bundle built in the first stage
    assert "COPY --from=bundle" in text
    for env_name in re.findall(r"\b(XSEARCH_[A-Z_]+)=", text):
        assert env_name in SETTINGS_ENV, env_name
    for path in ("pyproject.toml", "xsearch", "indexer", "api"):
        assert (ROOT / path).exists(), path
