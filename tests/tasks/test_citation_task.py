"""Task ``citation``: the whole graph as one case, masked targets, gradient method as the model."""

from __future__ import annotations

import pytest
import torch

from inertia.experiments import RunConfig, train
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
    options = CitationOptions(dataset="cora", split="planetoid", pca=16, hidden=8, steps=5)
    problem = TASKS["citation"].build("tbptt", options, torch.Generator().manual_seed(0),
                                      str(shared_data))  # fmt: skip
    assert problem.train_inputs.shape == (1, 2708, 16)
    assert int((problem.train_targets >= 0).sum()) == 140
    assert int((problem.test_targets >= 0).sum()) == 1000
    logits = problem.model(problem.train_inputs)
    assert logits.shape == (1, 2708, 7)
    metrics = problem.metrics(logits, problem.train_targets)
    assert 0.0 <= float(metrics["error"]) <= 1.0
    assert problem.model.network.propagation.gradient == "tbptt"


def test_citation_runs_train_with_every_gradient_method(shared_data):
    results = {}
    for method in ("bptt", "neumann_rbp", "cg_rbp"):
        config = RunConfig(
            task="citation", model=method, optimizer="cm", momentum=0.9, lr=0.05,
            batch_size=1, steps=15, eval_every=15, checkpoint_every=0,
            task_options={"pca": 16, "hidden": 8, "steps": 10}, data_dir=str(shared_data),
        )  # fmt: skip
        results[method] = train(config)
    for result in results.values():
        assert result.final["train_error"] < result.curve[0]["train_error"]
        assert 0.0 <= result.final["test_error"] <= 1.0


def test_bad_citation_options_name_the_value():
    with pytest.raises(ValueError, match="'dataset' must be one of"):
        CitationOptions(dataset="arxiv")
    with pytest.raises(ValueError, match="'split' must be"):
        CitationOptions(split="random")
    with pytest.raises(ValueError, match="'steps' must be >= 1, got 0"):
        CitationOptions(steps=0)
