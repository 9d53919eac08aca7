"""``segviewer resolve`` with a winners table, learned from examples, and --compare."""

import json
from dataclasses import replace

import numpy as np
import pytest

from segviewer.cli import main
from segviewer.cli_resolve import comparison_json
from segviewer.core.data.occlusion import occlusion_sample
from segviewer.core.editing.learning import Example, compare_rules, learn
from segviewer.core.io.readers import open_dataset
from segviewer.core.io.writers import save_samples

EXAMPLES = 2  # the first samples have hand-fixed versions


@pytest.fixture(scope="module")
def scenes(tmp_path_factory):
    """Occlusion scenes written as a mask folder, and the truth of the first ones as
    index labels (the user's fixed versions)."""
    root = tmp_path_factory.mktemp("occlusion")
    rng = np.random.default_rng(12)  # two examples compare every pair of classes
    pairs = [occlusion_sample(rng, (80, 80), f"s{i}") for i in range(5)]
    save_samples([s for s, _ in pairs], root / "data", "masks")
    fixed = [replace(s, masks=one_hot(t, len(s.class_names))) for s, t in pairs[:EXAMPLES]]
    save_samples(fixed, root / "examples", "index")
    return root, pairs


def one_hot(truth, classes):
    return np.stack([truth == c + 1 for c in range(classes)]).astype(np.uint8)


def labels(path):
    """Index labels of an output folder, by sample name."""
    return {s.name: np.where(s.masks.any(0), s.masks.argmax(0) + 1, 0) for s in open_dataset(path)}


def test_learned_rule_keeps_the_examples_and_resolves_the_rest_by_their_order(scenes, tmp_path):
    root, pairs = scenes
    out = tmp_path / "learned"
    args = [
        "resolve",
        str(root / "data"),
        "--rule",
        "learned",
        "--examples",
        str(root / "examples"),
    ]
    assert main([*args, "--out", str(out), "--format", "index"]) == 0
    got = labels(out)
    for sample, truth in pairs:
        conflicts = sample.masks.sum(axis=0) > 1
        assert (got[sample.name][conflicts] == truth[conflicts]).mean() >= 0.99
        np.testing.assert_array_equal(got[sample.name][~conflicts], truth[~conflicts])
    # the learned precedence is saved and reapplies as a table, byte for byte
    again = tmp_path / "table"
    table = ["--rule", "table", "--precedence", str(out / "precedence.json")]
    assert (
        main(["resolve", str(root / "data"), *table, "--out", str(again), "--format", "index"]) == 0
    )
    for sample, _ in pairs[EXAMPLES:]:
        (first,) = (out / "labels").glob(f"{sample.name}.*")
        assert first.read_bytes() == (again / "labels" / first.name).read_bytes()


def test_compare_json_is_the_agreement_of_every_rule_with_the_examples(scenes, capsys):
    root, pairs = scenes
    assert (
        main(
            [
                "resolve",
                str(root / "data"),
                "--compare",
                "--examples",
                str(root / "examples"),
                "--json",
            ]
        )
        == 0
    )
    printed = json.loads(capsys.readouterr().out)
    examples = [
        Example(s.name, s.class_names, s.masks, one_hot(t, len(s.class_names)))
        for s, t in pairs[:EXAMPLES]
    ]
    learned = learn(examples)
    assert printed == json.loads(json.dumps(comparison_json(learned, compare_rules(learned))))
    assert printed["rules"]["learned"]["fraction"] == 1.0
    assert printed["order"] == ["insect", "label", "stem", "fruit", "leaf"]
    assert printed["fixed_pixels"] == sum(
        int((s.masks.sum(axis=0) > 1).sum()) for s, _ in pairs[:EXAMPLES]
    )


def test_table_rule_follows_a_hand_written_file(scenes, tmp_path):
    root, pairs = scenes
    table = tmp_path / "winners.json"
    table.write_text(
        json.dumps(
            {
                "order": ["stem"],
                "winners": [
                    {"classes": ["leaf", "stem"], "winner": "leaf"},
                    {"classes": ["fruit", "insect"], "winner": "ignore"},
                ],
            }
        )
    )
    out = tmp_path / "out"
    args = ["resolve", str(root / "data"), "--rule", "table", "--precedence", str(table)]
    assert main([*args, "--out", str(out), "--format", "index"]) == 0
    got = {s.name: s for s in open_dataset(out)}
    for sample, _ in pairs:
        names, result = sample.class_names, got[sample.name]
        for pixel in np.argwhere(sample.masks.sum(axis=0) > 1):
            claimers = {names[c] for c in np.flatnonzero(sample.masks[(slice(None), *pixel)])}
            owner = np.flatnonzero(result.masks[(slice(None), *pixel)])
            if claimers == {"leaf", "stem"}:
                assert names[owner[0]] == "leaf"
            elif claimers == {"fruit", "insect"}:
                assert owner.size == 0 and result.ignore[tuple(pixel)] == 1
            else:  # stem first, then the class order
                ranked = ["stem", *[n for n in names if n != "stem"]]
                assert names[owner[0]] == min(claimers, key=ranked.index)


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--rule", "learned", "--out", "OUT"], "--rule learned needs --examples DIR"),
        (["--rule", "table", "--out", "OUT"], "--rule table needs --precedence FILE.json"),
        (["--compare"], "--compare needs --examples DIR"),
        (["--rule", "nearest"], "give --out, a new folder to write"),
        (["--rule", "table", "--precedence", "BAD", "--out", "OUT"], "BAD: not valid JSON"),
        (["--rule", "learned", "--examples", "NONE", "--out", "OUT"], "none of its samples"),
    ],
)
def test_bad_arguments_are_one_line(scenes, tmp_path, capsys, extra, message):
    root, _ = scenes
    (tmp_path / "BAD").write_text("{oops")
    save_samples(
        [occlusion_sample(np.random.default_rng(0), (8, 8), "other")[0]], tmp_path / "NONE", "masks"
    )
    extra = [str(tmp_path / a) if a in ("OUT", "BAD", "NONE") else a for a in extra]
    assert main(["resolve", str(root / "data"), *extra]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 or err[0].startswith("segviewer: warning")
    assert message in err[-1]
    assert not (tmp_path / "OUT").exists()
