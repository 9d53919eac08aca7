"""A wheel built from the repository installs into a fresh virtual environment and works there.

This is the install a user gets from PyPI: no source tree on the path, only the wheel's files.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(*args, cwd, env=None, timeout=900) -> str:
    result = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, f"{args}\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
    return result.stdout


def test_wheel_installs_in_a_fresh_venv_and_opens_the_sample_data(tmp_path):
    run(sys.executable, "-m", "build", "--wheel", "--outdir", tmp_path / "dist", ROOT, cwd=tmp_path)
    (wheel,) = (tmp_path / "dist").glob("segviewer-*.whl")
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    bin_dir = venv / "bin"
    # torch first, as scripts/setup.sh does: an open `torch>=2.4` would pick a CUDA build
    torch_requirement = os.environ.get("SEGVIEWER_TORCH", "torch==2.13.0").split()
    run(bin_dir / "python", "-m", "pip", "install", "-q", *torch_requirement, cwd=tmp_path)
    run(bin_dir / "python", "-m", "pip", "install", "-q", wheel, cwd=tmp_path)

    work = tmp_path / "elsewhere"  # not the repository: only the installed wheel is importable
    work.mkdir()
    location = run(
        bin_dir / "python", "-c", "import segviewer; print(segviewer.__file__)", cwd=work
    )
    assert str(venv) in location
    run(bin_dir / "npe2", "validate", "segviewer", "--imports", cwd=work)
    entry_points = run(
        bin_dir / "python",
        "-c",
        "from importlib.metadata import entry_points; "
        "print([e.name for e in entry_points(group='napari.manifest')])",
        cwd=work,
    )
    assert "segviewer" in entry_points

    run(
        bin_dir / "segviewer",
        "sample",
        "--out",
        work / "ds",
        "--count",
        "1",
        "--volumes",
        "0",
        cwd=work,
    )
    info = json.loads(run(bin_dir / "segviewer", "info", work / "ds", "--json", cwd=work))
    assert [s["name"] for s in info["samples"]] == ["sample_000"]
    scores = json.loads(run(bin_dir / "segviewer", "evaluate", work / "ds", "--json", cwd=work))
    assert scores["classes"] == ["background", "cell", "spot"]  # the bundled weights shipped
    assert scores["dice"][1] > 0.8

    env = dict(os.environ)  # the test session runs under Xvfb, so a display is there
    run(bin_dir / "segviewer", "demo", "--screenshot", work / "window.png", cwd=work, env=env)
    import imageio.v3 as iio

    shot = iio.imread(work / "window.png")
    assert shot.shape[0] > 500 and shot.shape[1] > 800 and shot[..., :3].std() > 10
