"""The wheel works on its own, as in Colab: built from this checkout, installed in a clean virtual environment whose
only other packages are the dependencies, it checks an exercise and loads the shipped weights and checkpoints."""
from __future__ import annotations

import pathlib
import site
import subprocess
import sys
import textwrap
import zipfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]

PROBE = textwrap.dedent("""
    import pathlib, sys, torch
    import dlcourse
    assert "site-packages" in dlcourse.__file__ and "{root}" not in dlcourse.__file__, dlcourse.__file__
    from dlcourse.grading import check

    def perceptron_predict(X, w, b):          # a student's answer: H(Xw + b), with H(0) = 1
        return (X @ w + b >= 0).to(X.dtype)

    result = check("expressivity.perceptron_predict", perceptron_predict)
    assert result.passed, result
    wrong = check("expressivity.perceptron_predict", lambda X, w, b: (X @ w + b > 0).to(X.dtype))
    assert not wrong.passed
    from dlcourse.pretrained import efficientnet_lite0
    net = efficientnet_lite0(device="cpu")
    assert net(torch.rand(1, 3, 64, 64)).shape == (1, 1000)
    from dlcourse.generative import judge_score
    assert judge_score(torch.zeros(2, 1, 28, 28), device="cpu").confident == 0.0
    print("wheel OK from", pathlib.Path(dlcourse.__file__).parent)
""")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> pathlib.Path:
    out = tmp_path_factory.mktemp("dist")
    # --no-isolation: build with this environment's setuptools (no download); the sources are copied to a build dir
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(ROOT)],
                   check=True, capture_output=True, text=True, timeout=300)
    (path,) = out.glob("dlcourse-*.whl")
    return path


def test_wheel_ships_package_data_and_checkpoints(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "dlcourse/pretrained/imagenet_classes.txt" in names
    assert {"dlcourse/checkpoints/judge.pt", "dlcourse/checkpoints/SHA256SUMS"} <= names
    assert not any(n.startswith(("tests/", "chapters/", "benchmarks/")) for n in names)


def test_wheel_works_in_a_clean_venv(wheel, tmp_path):
    env_dir = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(env_dir)], check=True, timeout=120)
    python = env_dir / "bin" / "python"
    # The dependencies come from this environment's site-packages (added as a plain path: its .pth files, and so the
    # editable install of this checkout, are not processed); dlcourse itself only from the wheel.
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    (pathlib.Path(purelib) / "deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)], check=True,
                   timeout=300)
    run = subprocess.run([str(python), "-c", PROBE.format(root=ROOT)], cwd=tmp_path, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "wheel OK" in run.stdout
