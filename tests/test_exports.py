"""nnU-Net and MONAI exports: lossless round trips, nnU-Net's own check, MONAI's loaders."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from test_cli import run_cli

from segviewer.core.data.sample import Dataset, Sample
from segviewer.core.data.synthetic import make_dataset_samples, make_sample
from segviewer.core.editing.rules import resolve_sample
from segviewer.core.errors import SegviewerError
from segviewer.core.io.label_scheme import LabelScheme
from segviewer.core.io.monai_export import export_monai
from segviewer.core.io.nnunet import export_nnunet
from segviewer.core.io.readers import open_dataset
from segviewer.core.io.writers import save_samples

ROOT = Path(__file__).resolve().parents[1]
NNUNET_PYTHON = ROOT / ".venv-nnunet" / "bin" / "python"
NNUNET_READY = ROOT / ".venv-nnunet" / ".segviewer-installed"


def nested_samples(count: int = 3) -> list[Sample]:
    """BraTS-like: 'whole' ⊃ 'core' ⊃ 'enhancing', given in another class order."""
    rng = np.random.default_rng(1)
    samples = []
    for i in range(count):
        m = np.zeros((3, 16, 32, 32), np.uint8)
        m[0, 2:14, 4:28, 4:28] = 1
        m[1, 4:12, 8:24, 8 + i : 24] = 1
        m[2, 6:10, 10:16, 10:16] = 1
        image = rng.normal(size=(16, 32, 32)).astype(np.float32)
        samples.append(Sample(f"case{i}", image, m[[1, 2, 0]].copy(), ["core", "enh", "whole"]))
    return samples


def volumes(count: int = 3, seed: int = 0) -> list[Sample]:
    rng = np.random.default_rng(seed)
    return [make_sample(rng, (24, 48, 48), f"vol{i}") for i in range(count)]


def overlapping_2d() -> list[Sample]:
    """Three classes with every kind of overlap, one class absent from one sample."""
    samples = make_dataset_samples(3, count=3, volumes=0)
    out = []
    for k, s in enumerate(samples):
        third = np.zeros_like(s.masks[0])
        third[20:60, 20:90] = 1  # overlaps cells and spots
        if k == 1:
            third[:] = 0
        masks = np.concatenate([s.masks, third[None]])
        out.append(Sample(s.name, s.image, masks, ["cell", "spot", "band"]))
    return out


def read_back(folder: Path) -> dict[str, Sample]:
    dataset = open_dataset(folder)
    return {name: dataset.sample(i) for i, name in enumerate(dataset.names)}


def assert_same(original: list[Sample], back: dict[str, Sample]) -> None:
    assert sorted(back) == sorted(s.name for s in original)
    for sample in original:
        got = back[sample.name]
        assert got.class_names == sample.class_names
        assert np.array_equal(got.image, sample.image)
        keep = np.ones(sample.spatial_shape, bool) if sample.ignore is None else sample.ignore == 0
        assert np.array_equal(got.masks[:, keep], sample.masks[:, keep])
        if sample.ignore is not None:
            assert np.array_equal(got.ignore, sample.ignore)


@pytest.mark.parametrize(
    "make, kind, ending",
    [
        (overlapping_2d, "combinations", ".png"),
        (nested_samples, "nested", ".nii.gz"),
        (volumes, "combinations", ".nii.gz"),
    ],
)
def test_nnunet_export_round_trips_overlaps_exactly(tmp_path, make, kind, ending):
    samples = make()
    folder = export_nnunet(Dataset.from_samples("d", samples), tmp_path, 12, "demo")
    assert folder == tmp_path / "Dataset012_demo"
    description = json.loads((folder / "dataset.json").read_text())
    assert description["file_ending"] == ending and description["numTraining"] == len(samples)
    assert description["segviewer"]["labels"] == kind
    assert_same(samples, read_back(folder))
    for sample in samples:
        assert (folder / "imagesTr" / f"{sample.name}_0000{ending}").is_file()


def test_nested_classes_export_as_classic_nested_regions(tmp_path):
    folder = export_nnunet(Dataset.from_samples("d", nested_samples()), tmp_path, 1, "brats")
    description = json.loads((folder / "dataset.json").read_text())
    assert description["labels"] == {
        "background": 0, "whole": [1, 2, 3], "core": [2, 3], "enh": [3],
    }  # fmt: skip
    assert description["regions_class_order"] == [1, 2, 3]


def test_combination_labels_are_each_combination_present(tmp_path):
    samples = overlapping_2d()
    folder = export_nnunet(Dataset.from_samples("d", samples), tmp_path, 2, "mix")
    description = json.loads((folder / "dataset.json").read_text())
    combinations = description["segviewer"]["combinations"]
    # an independent reading: the distinct class sets of the labelled pixels, over all samples
    found = set()
    for s in samples:
        claims = s.masks.reshape(3, -1).T
        found |= {tuple(np.flatnonzero(row)) for row in np.unique(claims, axis=0) if row.any()}
    names = ["cell", "spot", "band"]
    expected = {tuple(names[c] for c in combo) for combo in found} | {(n,) for n in names}
    assert {tuple(v) for v in combinations.values()} == expected
    labels = list(range(1, len(expected) + 1))
    assert sorted(int(k) for k in combinations) == labels
    for name in names:  # each class is the region of the labels that hold it
        assert description["labels"][name] == [int(k) for k, v in combinations.items() if name in v]
    assert description["regions_class_order"] == [1, 2, 3]


def test_resolved_data_exports_plain_labels_and_ignore_as_the_highest(tmp_path):
    samples = make_dataset_samples(4, count=2, volumes=0)
    for s in samples:
        resolve_sample(s, "priority", [1, 0])
    samples[0].ignore = np.zeros(samples[0].spatial_shape, np.uint8)
    samples[0].ignore[:5] = 1
    folder = export_nnunet(Dataset.from_samples("d", samples), tmp_path, 3, "plain")
    description = json.loads((folder / "dataset.json").read_text())
    assert description["labels"] == {"background": 0, "cell": 1, "spot": 2, "ignore": 3}
    assert "regions_class_order" not in description
    import imageio.v3 as iio

    labels = iio.imread(folder / "labelsTr" / f"{samples[1].name}.png")
    expected = samples[1].masks[0] * 1 + samples[1].masks[1] * 2
    assert np.array_equal(labels, expected)
    assert_same(samples, read_back(folder))


def test_rgb_images_export_one_file_per_channel(tmp_path):
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (40, 50, 3), dtype=np.uint8)
    masks = np.zeros((2, 40, 50), np.uint8)
    masks[0, 5:30, 5:30] = 1
    masks[1, 20:35, 20:45] = 1
    samples = [Sample("rgb", image, masks, ["a", "b"]), Sample("rgb2", image, masks, ["a", "b"])]
    folder = export_nnunet(Dataset.from_samples("d", samples), tmp_path, 4, "rgb")
    assert sorted(p.name for p in (folder / "imagesTr").iterdir()) == sorted(
        f"{n}_{c:04d}.png" for n in ("rgb", "rgb2") for c in range(3)
    )
    assert json.loads((folder / "dataset.json").read_text())["channel_names"] == {
        "0": "R", "1": "G", "2": "B",
    }  # fmt: skip
    assert_same(samples, read_back(folder))


def nnunet_check(folder: Path) -> subprocess.CompletedProcess:
    code = (
        "import sys\n"
        "from nnunetv2.experiment_planning.verify_dataset_integrity import "
        "verify_dataset_integrity\n"
        "verify_dataset_integrity(sys.argv[1], 1)\n"
    )
    assert NNUNET_READY.exists(), "nnU-Net's check needs .venv-nnunet: run scripts/setup.sh"
    env = {**os.environ, "nnUNet_raw": str(folder.parent)}
    return subprocess.run(
        [str(NNUNET_PYTHON), "-c", code, str(folder)], capture_output=True, text=True, env=env
    )


def test_exports_pass_nnunets_own_dataset_check(tmp_path):
    exports = [
        export_nnunet(Dataset.from_samples("a", overlapping_2d()), tmp_path, 21, "mix2d"),
        export_nnunet(Dataset.from_samples("b", nested_samples()), tmp_path, 22, "nested"),
        export_nnunet(Dataset.from_samples("c", volumes(2)), tmp_path, 23, "vol"),
    ]
    for folder in exports:
        result = nnunet_check(folder)
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
        assert "verify_dataset_integrity Done" in result.stdout
    # a damaged export fails the same check: the check can fail
    broken = exports[2] / "labelsTr" / "vol0.nii.gz"
    broken.unlink()
    assert nnunet_check(exports[2]).returncode != 0


def test_nnunet_cli_and_bad_input(tmp_path):
    data = tmp_path / "data"
    save_samples(make_dataset_samples(2, count=3, volumes=1), data, "masks")
    mixed = run_cli("export", "nnunet", data, "--out", tmp_path / "raw", "--id", "5", "--name", "x")
    assert mixed.returncode == 2
    assert mixed.stderr.count("\n") == 1 and "--dims 2 or --dims 3" in mixed.stderr
    ok = run_cli(
        "export", "nnunet", data, "--out", tmp_path / "raw", "--id", "5", "--name", "x",
        "--dims", "2",
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert "(3 cases)" in ok.stdout
    again = run_cli(
        "export", "nnunet", data, "--out", tmp_path / "raw", "--id", "5", "--name", "x",
        "--dims", "2",
    )  # fmt: skip
    assert again.returncode == 2 and "already exists" in again.stderr
    assert again.stderr.count("\n") == 1
    bad_id = run_cli("export", "nnunet", data, "--out", tmp_path / "r", "--id", "0", "--name", "x")
    assert bad_id.returncode == 2 and "--id 0" in bad_id.stderr and not (tmp_path / "r").exists()


def test_samples_that_differ_in_channel_count_are_refused(tmp_path):
    masks = np.zeros((1, 20, 20), np.uint8)
    rgb = Sample("rgb", np.zeros((20, 20, 3), np.uint8), masks, ["a"])
    grey = Sample("grey", np.zeros((20, 20), np.uint8), masks, ["a"])
    with pytest.raises(SegviewerError, match="grey: 1 image channel.*rgb has 3"):
        export_nnunet(Dataset.from_samples("d", [rgb, grey]), tmp_path, 1, "x")
    assert not any(tmp_path.iterdir())  # nothing half-written


def test_a_dataset_json_with_gaps_in_its_labels_is_refused(tmp_path):
    folder = export_nnunet(Dataset.from_samples("d", volumes(2)), tmp_path, 6, "gaps")
    description = json.loads((folder / "dataset.json").read_text())
    description["labels"] = {"background": 0, "cell": 1, "spot": 3}
    (folder / "dataset.json").write_text(json.dumps(description))
    result = run_cli("info", folder)
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "labels [1, 3] are not consecutive" in result.stderr
    with pytest.raises(SegviewerError, match="not consecutive"):
        LabelScheme.from_labels_json({"background": 0, "a": 2}, "x")


def test_a_label_file_without_its_image_is_named_and_left_out(tmp_path):
    folder = export_nnunet(Dataset.from_samples("d", volumes(3)), tmp_path, 7, "orphan")
    (folder / "imagesTr" / "vol1_0000.nii.gz").unlink()
    result = run_cli("info", folder)
    assert result.returncode == 0, result.stderr
    assert "1 label file(s) without their image" in result.stderr and "vol1.nii.gz" in result.stderr
    assert "vol0" in result.stdout and "vol1" not in result.stdout


def monai_loaded(folder: Path, part: str):
    from monai.data import load_decathlon_datalist
    from monai.transforms import Compose, EnsureChannelFirstd, LoadImaged

    entries = load_decathlon_datalist(folder / "dataset.json", True, part)
    load = Compose([LoadImaged(["image", "label"]), EnsureChannelFirstd(["image", "label"])])
    return entries, [load(entry) for entry in entries]


def test_monai_export_loads_with_monais_own_loaders(tmp_path):
    samples = make_dataset_samples(5, count=4, volumes=0)
    for s in samples:
        resolve_sample(s, "priority", [1, 0])
    out = export_monai(
        Dataset.from_samples("d", samples), tmp_path / "m", [0.5, 1, 2], [0.25] * 4, "x", 0.25
    )
    training, loaded = monai_loaded(out, "training")
    validation, _ = monai_loaded(out, "validation")
    assert len(training) == 3 and len(validation) == 1
    by_name = {s.name: s for s in samples}
    for entry, item in zip(training, loaded, strict=True):
        sample = by_name[Path(entry["label"]).name.removesuffix(".png")]
        expected = sample.masks[0] + 2 * sample.masks[1]
        label = np.asarray(item["label"])[0].T  # MONAI's PIL reader reads PNGs as (x, y)
        assert np.array_equal(label, expected)
    snippet = subprocess.run(
        [sys.executable, out / "train_monai.py"], capture_output=True, text=True, cwd=tmp_path
    )
    assert snippet.returncode == 0, snippet.stderr[-2000:]
    assert "label (2, 1, 128, 128)" in snippet.stdout
    assert "CLASS_WEIGHTS = torch.tensor([0.5, 1, 2]" in (out / "train_monai.py").read_text()


def test_monai_export_of_overlapping_volumes_keeps_one_file_per_class(tmp_path):
    samples = volumes(3)
    out = export_monai(Dataset.from_samples("d", samples), tmp_path / "m", [1, 1, 1], [1] * 3, "u")
    entries, loaded = monai_loaded(out, "training")
    assert json.loads((out / "dataset.json").read_text())["label_format"].startswith("one file")
    by_name = {s.name: s for s in samples}
    for entry, item in zip(entries, loaded, strict=True):
        sample = by_name[Path(entry["image"]).name.removesuffix("_0000.nii.gz")]
        assert np.array_equal(np.asarray(item["label"]), sample.masks)
        assert np.array_equal(np.asarray(item["image"])[0], sample.image)
    snippet = subprocess.run(
        [sys.executable, out / "train_monai.py"], capture_output=True, text=True
    )
    assert snippet.returncode == 0, snippet.stderr[-2000:]
    assert (
        "label (2, 2, 64, 64, 64)" in snippet.stdout
        and "sigmoid=True" in (out / "train_monai.py").read_text()
    )


def test_monai_cli_writes_the_dataset_weights_and_refuses_an_existing_folder(tmp_path):
    data = tmp_path / "data"
    save_samples(make_dataset_samples(6, count=4, volumes=0), data, "masks")
    stats = json.loads(run_cli("stats", data, "--json").stdout)
    result = run_cli("export", "monai", data, "--out", tmp_path / "m", "--scheme", "enet")
    assert result.returncode == 0, result.stderr
    snippet = (tmp_path / "m" / "train_monai.py").read_text()
    weights = ", ".join(f"{w:.6g}" for w in stats["normalized_weights"]["enet"])
    assert f"CLASS_WEIGHTS = torch.tensor([{weights}]" in snippet
    again = run_cli("export", "monai", data, "--out", tmp_path / "m")
    assert again.returncode == 2 and "already exists" in again.stderr


def test_the_workspace_exports_the_masks_as_edited(tmp_path):
    from segviewer.core.workspace import Workspace

    data = tmp_path / "data"
    save_samples(volumes(2), data, "masks")
    workspace = Workspace.open(data)
    workspace.show(0)
    workspace.apply_rule("priority", scope="dataset", priority=["spot", "cell"])
    folder = workspace.export_nnunet(tmp_path / "raw", 30, "edited")
    description = json.loads((folder / "dataset.json").read_text())
    assert description["segviewer"]["labels"] == "plain"  # the edits, not the files on disk
    out = workspace.export_monai(tmp_path / "monai", scheme="enet", validation=0.5)
    stats = workspace.stats()
    weights = ", ".join(f"{w:.6g}" for w in stats.normalized_weights()["enet"])
    assert f"CLASS_WEIGHTS = torch.tensor([{weights}]" in (out / "train_monai.py").read_text()
    assert len(json.loads((out / "dataset.json").read_text())["validation"]) == 1


def test_review_cases_int64_images_reserved_names_and_rgb_in_one_file(tmp_path):
    masks = np.zeros((2, 20, 20, 20), np.uint8)
    masks[0, 2:10] = 1
    masks[1, 5:15] = 1
    image = np.arange(8000, dtype=np.int64).reshape(20, 20, 20)
    samples = [Sample(f"v{i}", image, masks, ["a", "b"]) for i in range(2)]
    folder = export_nnunet(Dataset.from_samples("d", samples), tmp_path, 40, "int64")
    back = read_back(folder)
    assert np.array_equal(back["v0"].image, image) and np.array_equal(back["v0"].masks, masks)

    named = [Sample("x", image, masks, ["ignore", "b"])]
    with pytest.raises(SegviewerError, match="a class named 'ignore'"):
        export_nnunet(Dataset.from_samples("d", named), tmp_path, 41, "reserved")

    import imageio.v3 as iio  # nnU-Net's own natural-image layout: RGB in one _0000.png

    root = tmp_path / "Dataset042_rgb"
    (root / "imagesTr").mkdir(parents=True)
    (root / "labelsTr").mkdir()
    rgb = np.random.default_rng(0).integers(0, 255, (30, 40, 3), dtype=np.uint8)
    labels = np.zeros((30, 40), np.uint8)
    labels[5:20, 5:20] = 1
    iio.imwrite(root / "imagesTr" / "road_0000.png", rgb)
    iio.imwrite(root / "labelsTr" / "road.png", labels)
    (root / "dataset.json").write_text(json.dumps({
        "channel_names": {"0": "R", "1": "G", "2": "B"}, "labels": {"background": 0, "road": 1},
        "numTraining": 1, "file_ending": ".png",
    }))  # fmt: skip
    road = read_back(root)["road"]
    assert np.array_equal(road.image, rgb) and np.array_equal(road.masks[0], labels)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d: 5, "not a JSON object"),
        (lambda d: {**d, "file_ending": ".nrrd"}, "file_ending '.nrrd' is not one segviewer"),
        (lambda d: {**d, "labels": {"background": 0, "cell": 1}}, "label values 0..3 outside"),
    ],
)
def test_bad_nnunet_folders_are_one_line(tmp_path, change, message):
    folder = export_nnunet(Dataset.from_samples("d", volumes(1)), tmp_path, 43, "bad")
    description = json.loads((folder / "dataset.json").read_text())
    (folder / "dataset.json").write_text(json.dumps(change(description)))
    result = run_cli("info", folder)
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert message in result.stderr


def test_export_into_the_raw_folder_that_holds_the_input(tmp_path):
    raw = tmp_path / "nnUNet_raw"
    first = export_nnunet(Dataset.from_samples("d", volumes(2)), raw, 50, "first")
    result = run_cli("export", "nnunet", first, "--out", raw, "--id", "51", "--name", "second")
    assert result.returncode == 0, result.stderr
    assert_same(volumes(2), read_back(raw / "Dataset051_second"))


def test_monai_validation_is_drawn_from_the_exported_samples(tmp_path):
    samples = [*make_dataset_samples(9, count=6, volumes=0), *volumes(3)]
    out = export_monai(
        Dataset.from_samples("d", samples), tmp_path / "m", [1, 1, 1], [1] * 9, "u", 0.3, 0,
        dims=3,
    )  # fmt: skip
    datalist = json.loads((out / "dataset.json").read_text())
    assert len(datalist["training"]) == 2 and len(datalist["validation"]) == 1
    assert datalist["labels"] == {"0": "cell", "1": "spot"}  # one file per class


@pytest.mark.parametrize("classes", [1, 2, 9, 70])
def test_label_schemes_round_trip_any_number_of_classes(classes):
    from segviewer.core.io.label_scheme import combinations_in

    rng = np.random.default_rng(classes)
    masks = (rng.random((classes, 12, 30)) < 0.15).astype(np.uint8)
    masks[:, 0] = 0  # a row in no class
    names = [f"c{i}" for i in range(classes)]
    found = combinations_in(masks)
    independent = {tuple(np.flatnonzero(masks[:, y, x])) for y in range(12) for x in range(30)}
    assert found == independent - {()}
    scheme = LabelScheme.for_dataset(names, found, masks.reshape(classes, -1).sum(axis=1))
    decoded, ignore = scheme.decode(scheme.encode(masks))
    assert np.array_equal(decoded, masks) and ignore is None
