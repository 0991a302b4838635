"""Task ``citation``: the whole graph as one case, masked targets, gradient method as the model."""

from __future__ import annotations

import re

import pytest
import torch

from inertia.experiments import ConfigError, RunConfig, train
from inertia.implicit import TBPTT
from inertia.tasks import TASKS
from inertia.tasks._citation import CitationOptions, pca_features


def test_pca_features_are_the_leading_components(shared_data):
    generator = torch.Generator().manual_seed(0)
    features = torch.randn(200, 30, generator=generator) @ torch.diag(torch.linspace(5, 0.1, 30))
    reduced = pca_features(features, 4)
    assert reduced.shape == (200, 4)
    variances = reduced.var(dim=0)
    assert torch.all(variances[:-1] >= variances[1:])  # ordered by explained variance
    assert float(reduced.std()) == pytest.approx(1.0, rel=1e-5)


def test_citation_problem_masks_targets_to_the_split(shared_data):
    options = CitationOptions(
        gradient="tbptt", dataset="cora", split="planetoid", pca=16, hidden=8, steps=5
    )
    problem = TASKS["citation"].build(options, torch.Generator().manual_seed(0), str(shared_data))
    (inputs, train_targets), (_, test_targets) = problem.evaluation.splits.values()
    assert inputs.shape == (1, 2708, 16)
    assert int((train_targets >= 0).sum()) == 140
    assert int((test_targets >= 0).sum()) == 1000
    logits = problem.model(inputs)
    assert logits.shape == (1, 2708, 7)
    metrics = problem.evaluation.metrics(logits, train_targets)
    assert 0.0 <= float(metrics["error"]) <= 1.0
    assert problem.model.network.propagation.gradient == TBPTT(truncation=5)


def test_the_principal_components_are_computed_once_per_process(shared_data, monkeypatch):
    """A sweep worker builds the task for run after run: the SVD runs once per dataset, and each
    run gets its own copy of the same features."""
    from inertia.tasks import _citation

    calls = []

    def counting(features, components):
        calls.append(components)
        return pca_features(features, components)

    monkeypatch.setattr(_citation, "pca_features", counting)
    _citation._reduced_features.cache_clear()
    options = CitationOptions(gradient="tbptt", dataset="cora", pca=12, hidden=8, steps=5)
    problems = [
        TASKS["citation"].build(options, torch.Generator().manual_seed(0), str(shared_data))
        for _ in range(2)
    ]
    assert calls == [12]
    first, second = (problem.evaluation.splits["train"][0] for problem in problems)
    assert torch.equal(first, second)
    assert first.data_ptr() != second.data_ptr()
    graph = _citation.load_planetoid("cora", str(shared_data))
    assert torch.equal(first[0], pca_features(graph.features, 12))
    _citation._reduced_features.cache_clear()


def test_citation_runs_train_with_every_gradient_method(shared_data):
    results = {}
    for method in ("bptt", "neumann_rbp", "cg_rbp"):
        config = RunConfig(
            task={"name": "citation", "gradient": method, "pca": 16, "hidden": 8, "steps": 10},
            optimizer={"name": "cm", "momentum": 0.9, "lr": 0.05},
            batch_size=1, steps=15, eval_every=15, checkpoint_every=0, data_dir=str(shared_data),
        )  # fmt: skip
        results[method] = train(config)
    for result in results.values():
        assert result.final["train_error"] < result.curve[0]["train_error"]
        assert 0.0 <= result.final["test_error"] <= 1.0


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"dataset": "arxiv"}, "'task.dataset' must be one of 'cora', 'citeseer' or 'pubmed'"),
        ({"split": "random"}, "'task.split' must be one of 'liao' or 'planetoid'"),
        ({"steps": 0}, "'task.steps' must be >= 1, got 0"),
        ({"gradient": "adjoint"}, "'task.gradient' must be one of 'bptt', 'tbptt'"),
    ],
)
def test_bad_citation_options_name_the_value(options, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        RunConfig(task={"name": "citation", **options})
