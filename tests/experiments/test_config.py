from __future__ import annotations

import pytest

from inertia.experiments import (
    ConfigError,
    RunConfig,
    from_mapping,
    load_config,
    merge,
    parse_overrides,
)


def test_yaml_then_overrides(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("task: toy-regression\nlr: 0.05\ntask_options:\n  cases: 256\n  hidden: 16\n")
    overrides = parse_overrides(["--lr=1e-3", "--task_options.hidden=8", "--precision=float64"])
    config = from_mapping(RunConfig, merge(load_config(path), overrides))
    assert config.lr == 0.001
    assert config.task_options == {"cases": 256, "hidden": 8}
    assert config.precision == "float64"
    assert isinstance(RunConfig(lr=1).lr, float)  # ints are accepted where floats are expected


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({"lrr": 0.1}, "unknown config key 'lrr' (did you mean 'lr'?)"),
        ({"lr": "fast"}, "config key 'lr' must be float, got 'fast'"),
        ({"steps": 1.5}, "config key 'steps' must be int, got 1.5"),
        ({"steps": True}, "config key 'steps' must be int, got True"),
        ({"momentum": 1.0}, "config key 'momentum' must be in [0, 1), got 1.0"),
        ({"lr": -0.1}, "config key 'lr' must be >= 0, got -0.1"),
        ({"device": "tpu"}, "config key 'device' must be 'cpu' | 'cuda' | 'auto', got 'tpu'"),
        ({"finetune_steps": 5000}, "config key 'finetune_steps' must be in [0, steps], got 5000"),
        ({"task_options": 3}, "config key 'task_options' must be dict, got 3"),
        ({"lr_decay_steps": 50}, "config key 'lr_decay_steps' must be a list of int, got 50"),
        ({"lr_decay_steps": [1.5]}, "config key 'lr_decay_steps' must be a list of int, got [1.5]"),
        (
            {"lr_decay_steps": [50, 20]},
            "config key 'lr_decay_steps' must be increasing positive update numbers, got [50, 20]",
        ),
    ],
)
def test_errors_are_one_line_and_name_key_and_value(mapping, message):
    with pytest.raises(ConfigError) as error:
        from_mapping(RunConfig, mapping)
    assert str(error.value) == message


def test_bad_files_and_overrides(tmp_path):
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config(tmp_path / "missing.yaml")
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="must hold a mapping"):
        load_config(tmp_path / "list.yaml")
    (tmp_path / "broken.yaml").write_text("lr: [1, 2\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(tmp_path / "broken.yaml")
    with pytest.raises(ConfigError, match="--key=value"):
        parse_overrides(["--lr"])
    assert parse_overrides(["--data_dir="]) == {"data_dir": ""}
    assert parse_overrides(["--clip_grad_norm=1", "--init=sparse"]) == {
        "clip_grad_norm": 1,
        "init": "sparse",
    }


def test_replace_revalidates():
    with pytest.raises(ConfigError, match="batch_size"):
        RunConfig().replace(batch_size=0)
