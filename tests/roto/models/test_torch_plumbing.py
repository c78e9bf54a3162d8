"""Device choice and per-step contexts shared by the model backends."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest
import torch

from roto_core.backends._models_torch import autocast, frame_tensor, resolve_device, stepwise
from roto_core.errors import ModelError

pytestmark = pytest.mark.models


def test_cpu_and_auto_devices():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device(" CPU ") == torch.device("cpu")
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")


@pytest.mark.parametrize("name", ["gpu", "metal:0", ""])
def test_unknown_devices_are_model_errors(name: str):
    with pytest.raises(ModelError, match="unknown device"):
        resolve_device(name)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error on machines without CUDA")
@pytest.mark.parametrize("name", ["cuda", "cuda:0", "cuda:3"])
def test_absent_cuda_is_refused_not_replaced_by_the_cpu(name: str):
    with pytest.raises(ModelError, match="sees no CUDA device") as err:
        resolve_device(name)
    assert err.value.where == f"device {name}"


def test_no_autocast_on_cpu():
    with autocast(torch.device("cpu")):
        assert not torch.is_autocast_enabled("cpu")
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.float32


def test_stepwise_holds_the_context_only_while_advancing():
    active: list[bool] = []
    state = {"inside": False}

    @contextlib.contextmanager
    def ctx():
        state["inside"] = True
        try:
            yield
        finally:
            state["inside"] = False

    def produce():
        for i in range(3):
            active.append(state["inside"])
            yield i

    seen = []
    for item in stepwise(produce(), ctx):
        seen.append((item, state["inside"]))
    assert seen == [(0, False), (1, False), (2, False)]
    assert active == [True, True, True]


def test_frame_tensor_is_channels_first_float32():
    frame = np.random.default_rng(0).random((5, 7, 3), dtype=np.float32)
    t = frame_tensor(frame)
    assert t.shape == (3, 5, 7) and t.dtype == torch.float32
    np.testing.assert_array_equal(t[1].numpy(), frame[..., 1])
    with pytest.raises(ValueError, match="H×W×3"):
        frame_tensor(np.zeros((5, 7), np.float32))
