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
from inertia.experiments._legacy import is_legacy, upgrade_config
from inertia.experiments._optimizers import AdamConfig, MomentumConfig
from inertia.tasks import TASKS


def test_yaml_then_overrides(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text(
        "task:\n  name: toy-regression\n  cases: 256\n  hidden: 16\n"
        "optimizer:\n  name: nag\n  lr: 0.05\n  momentum: 0.99\n"
    )
    overrides = parse_overrides(["--optimizer.lr=1e-3", "--task.hidden=8", "--precision=float64"])
    config = from_mapping(RunConfig, merge(load_config(path), overrides))
    assert config.optimizer.lr == 0.001
    assert config.optimizer.momentum == 0.99
    assert (config.task.cases, config.task.hidden) == (256, 8)
    assert config.precision == "float64"
    assert isinstance(RunConfig(optimizer={"name": "nag", "lr": 1}).optimizer.lr, float)


def test_sections_are_typed_and_chosen_by_name():
    config = RunConfig(task="long-term", optimizer="adam")
    assert isinstance(config.task, TASKS["long-term"].Options)
    assert (config.task.problem, config.task.length, config.task.cell) == ("addition", 80, "tanh")
    assert isinstance(config.optimizer, AdamConfig)
    default = RunConfig()
    assert default.task.name == "toy-regression"
    assert isinstance(default.optimizer, MomentumConfig)
    assert default.optimizer.name == "nag"
    # a section without a name keeps the default task or optimizer
    assert from_mapping(RunConfig, {"optimizer.momentum": 0.5}).optimizer.name == "nag"
    # the whole config round-trips through its plain form
    assert from_mapping(RunConfig, config.to_dict()) == config
    with pytest.raises(ConfigError, match="not a registered task's"):
        RunConfig(task=AdamConfig())  # an optimizer's settings are no task


def test_switching_optimizer_keeps_only_the_settings_it_has():
    base = {"optimizer": {"name": "nag", "lr": 0.1, "momentum": 0.99}}
    adam = from_mapping(RunConfig, merge(base, parse_overrides(["--optimizer=adam"])))
    assert (adam.optimizer.name, adam.optimizer.lr) == ("adam", 0.1)
    cm = from_mapping(RunConfig, merge(base, parse_overrides(["--optimizer.name=cm"])))
    assert (cm.optimizer.name, cm.optimizer.momentum) == ("cm", 0.99)
    assert RunConfig(**base).replace(**{"optimizer.lr": 0.5}).optimizer.momentum == 0.99


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({"stepz": 10}, "unknown config key 'stepz' (did you mean 'steps'?)"),
        (
            {"optimizer": {"lrr": 0.1}},
            "unknown config key 'optimizer.lrr' (did you mean 'optimizer.lr'?)",
        ),
        (
            {"optimizer": {"name": "adam", "momentum": 0.9}},
            "unknown config key 'optimizer.momentum' (optimizer 'adam' has no such setting)",
        ),
        ({"optimizer.lr": "fast"}, "config key 'optimizer.lr' must be a number, got 'fast'"),
        ({"steps": 1.5}, "config key 'steps' must be an integer, got 1.5"),
        ({"steps": -3}, "config key 'steps' must be >= 1, got -3"),
        ({"optimizer.momentum": 1.0}, "config key 'optimizer.momentum' must be < 1, got 1.0"),
        ({"optimizer.lr": -0.1}, "config key 'optimizer.lr' must be >= 0, got -0.1"),
        (
            {"device": "tpu"},
            "config key 'device' must be one of 'cpu', 'cuda' or 'auto', got 'tpu'",
        ),
        (
            {"seed": 99999999999999999999999},
            "config key 'seed' must be <= 9223372036854775807, got 99999999999999999999999",
        ),
        (
            {"optimizer.finetune_steps": 5000},
            "config key 'optimizer.finetune_steps' must be at most steps (1000), got 5000",
        ),
        ({"task": 3}, "config key 'task' must be a task name or a mapping of its settings, got 3"),
        (
            {"task": "autoencodr"},
            "config key 'task.name' must be a registered task (autoencoder, citation, hopfield, "
            "hypergradient, long-term, mnist-classification, polyphonic, ptb, toy-regression), "
            "got 'autoencodr' (did you mean 'autoencoder'?)",
        ),
        (
            {"task": {"name": "long-term", "cell": "gru"}},
            "config key 'task.cell' must be one of 'tanh', 'relu', 'leaky-tanh', 'leaky-relu' or "
            "'lstm', got 'gru'",
        ),
        (
            {"optimizer.lr_decay_steps": 50},
            "config key 'optimizer.lr_decay_steps' must be a list, got 50",
        ),
        (
            {"optimizer.lr_decay_steps": [1.5]},
            "config key 'optimizer.lr_decay_steps.0' must be an integer, got 1.5",
        ),
        (
            {"optimizer.lr_decay_steps": [50, 20]},
            "config key 'optimizer.lr_decay_steps' must be increasing positive update numbers, "
            "got [50, 20]",
        ),
        (
            {"optimizer": "hf", "clip_grad_norm": 1.0},
            "config key 'clip_grad_norm' does not apply to optimizer 'hf'",
        ),
        (
            {"optimizer": {"name": "hf", "curvature_batch": 500}, "batch_size": 100},
            "config key 'optimizer.curvature_batch' must be at most batch_size (100), got 500",
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
    with pytest.raises(ConfigError, match="not valid YAML") as raised:
        load_config(tmp_path / "broken.yaml")
    assert "\n" not in str(raised.value)
    for bad in (["--steps"], ["--=3"], ["--optimizer..lr=3"]):
        with pytest.raises(ConfigError, match="--key=value"):
            parse_overrides(bad)
    assert parse_overrides(["--data_dir="]) == {"data_dir": ""}
    assert parse_overrides(["--clip_grad_norm=1", "--init=sparse"]) == {
        "clip_grad_norm": 1,
        "init": "sparse",
    }
    assert parse_overrides(["--optimizer=cm", "--optimizer.momentum=0.5"]) == {
        "optimizer": {"name": "cm", "momentum": 0.5}
    }


def test_replace_revalidates():
    with pytest.raises(ConfigError, match="batch_size"):
        RunConfig().replace(batch_size=0)


def test_legacy_flat_settings_upgrade_to_sections():
    old = {"task": "long-term", "model": "biases", "task_options": {"length": 40},
           "optimizer": "nag", "lr": 0.003, "momentum": 0.9, "momentum_schedule": "rnn",
           "steps": 2000}  # fmt: skip
    assert is_legacy(old)
    new = upgrade_config(old)
    assert new == {
        # 0.1's default problem was the mean-target addition: today's addition-mean
        "task": {
            "name": "long-term",
            "length": 40,
            "problem": "addition-mean",
            "output_biases_only": True,
            # and trained with inertia 0.2's loss and both of nn.RNN's biases (issue 39)
            "loss_reduction": "per-sequence",
            "hidden_biases": 2,
        },
        "optimizer": {"name": "nag", "lr": 0.003, "momentum": 0.9, "momentum_schedule": "rnn"},
        "steps": 2000,
    }
    assert not is_legacy(new)
    sgd = upgrade_config({"optimizer": "sgd", "momentum": 0.0, "lr": 0.1, "model": "curves",
                          "task": "autoencoder", "momentum_schedule": "sutskever"})  # fmt: skip
    assert sgd["optimizer"] == {"name": "sgd", "lr": 0.1}  # momentum had no effect on SGD
    assert sgd["task"] == {"name": "autoencoder", "dataset": "curves"}
    hf = upgrade_config({"optimizer": "hf", "lr": 1.0, "optimizer_options": {"cg_decay": 0.99}})
    assert hf["optimizer"] == {"name": "hf", "lr": 1.0, "cg_decay": 0.99}
    from_mapping(RunConfig, new)  # valid today


def test_booleans_and_non_finite_numbers_are_not_numbers():
    """Issue 36: YAML reads no/yes/on/off as booleans, which pydantic turned into 0 and 1
    (momentum=no trained with momentum 0), and inf or 1e999 passed as a rate."""
    for overrides, key in [
        (["--optimizer.momentum=no"], "optimizer.momentum"),
        (["--steps=true"], "steps"),
        (["--optimizer.lr=on"], "optimizer.lr"),
        (["--optimizer.lr_decay_steps=[true]"], "optimizer.lr_decay_steps"),
        (["--task=long-term", "--task.hidden_biases=true"], "task.hidden_biases"),
    ]:
        with pytest.raises(ConfigError, match=rf"'{key}' must be a number, not a boolean"):
            from_mapping(RunConfig, parse_overrides(overrides))
    for value in ("inf", "-inf", "nan", "1e999"):
        with pytest.raises(ConfigError, match=r"'optimizer.lr' must be a finite number"):
            from_mapping(RunConfig, parse_overrides([f"--optimizer.lr={value}"]))
    assert from_mapping(RunConfig, parse_overrides(["--cuda_graphs=no"])).cuda_graphs is False


def test_init_scale_is_refused_where_nothing_reads_it():
    with pytest.raises(ConfigError, match=r"'init_scale' \(2\) scales the sparse init.*'default'"):
        RunConfig(init_scale=2.0)
    assert RunConfig(init="sparse", init_scale=2.0).init_scale == 2.0


def test_config_files_duplicate_keys_size_and_emptiness(tmp_path):
    duplicate = tmp_path / "duplicate.yaml"
    duplicate.write_text("steps: 3\noptimizer: {lr: 0.1}\nsteps: 4\n")
    with pytest.raises(ConfigError, match=r"key 'steps' is given twice \(again at line 3\)"):
        load_config(duplicate)
    nested = tmp_path / "nested.yaml"
    nested.write_text("optimizer: {lr: 0.1, lr: 0.2}\n")
    with pytest.raises(ConfigError, match="key 'lr' is given twice"):
        load_config(nested)
    huge = tmp_path / "huge.yaml"
    huge.write_text("# " + "x" * (1 << 20) + "\n")
    with pytest.raises(ConfigError, match="larger than 1 MiB"):
        load_config(huge)
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing set\n")
    assert load_config(empty) == {}  # documented: an empty file means the defaults


def test_a_config_file_that_never_ends_is_refused():
    # read without a limit, /dev/zero never ends (the old reader hung and ignored SIGTERM)
    with pytest.raises(ConfigError, match="larger than 1 MiB"):
        load_config("/dev/zero")
