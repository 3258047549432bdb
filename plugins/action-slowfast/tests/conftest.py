"""The models here are tiny: one intra-op thread is fastest and avoids thread oversubscription on busy CI
machines (several pytest workers each spinning up a full OpenMP pool made tiny forwards ~100x slower).

``config_show`` runs ``action-run config show`` and parses its TOML; ``config_model`` builds a config's
``[model]`` as ``action-run train`` does."""

import tomllib

import pytest
import torch

from action_core.api import ExperimentConfig, compose_model, run_cli

torch.set_num_threads(1)


@pytest.fixture
def config_show(capsys):
    """``action-run config show PRESET [--expand] [--set KEY=VALUE ...]``, its TOML parsed."""

    def show(preset: str, *overrides: str, expand: bool = False) -> dict:
        capsys.readouterr()
        argv = ["config", "show", preset, *(["--expand"] if expand else [])]
        for override in overrides:
            argv += ["--set", override]
        assert run_cli(argv) == 0
        return tomllib.loads(capsys.readouterr().out)

    return show


@pytest.fixture
def config_model():
    """The model of a config's ``[model]`` table."""

    def build(data: dict) -> torch.nn.Module:
        model = ExperimentConfig.from_dict(data, source="test").model
        return compose_model(model.description(), num_classes=model.num_classes)

    return build
