"""Module, Linear and MLP: parameter discovery, initialisation, seeding, forward, training."""

import numpy as np
import pytest

import autodiff
from autodiff import Tensor, nn


def weights(model):
    return [p.data.copy() for p in model.parameters()]


def test_mlp_parameters_in_layer_order():
    model = nn.MLP([4, 8, 3])
    shapes = [p.shape for p in model.parameters()]
    assert shapes == [(4, 8), (8,), (8, 3), (3,)]
    assert all(p.requires_grad for p in model.parameters())


def test_same_seed_same_weights_other_seed_other_weights():
    a, b, c = nn.MLP([4, 8, 3], seed=7), nn.MLP([4, 8, 3], seed=7), nn.MLP([4, 8, 3], seed=8)
    for p, q in zip(weights(a), weights(b), strict=True):
        np.testing.assert_array_equal(p, q)
    assert not np.array_equal(weights(a)[0], weights(c)[0])


def test_linear_rng_accepts_seed_or_generator():
    by_seed = nn.Linear(3, 2, rng=5).W.data
    by_generator = nn.Linear(3, 2, rng=np.random.default_rng(5)).W.data
    np.testing.assert_array_equal(by_seed, by_generator)
    np.testing.assert_array_equal(nn.Linear(3, 2, rng=5).b.data, np.zeros(2))


def test_xavier_and_he_scales():
    xavier = nn.Linear(300, 200, init="xavier", rng=0).W.data
    limit = np.sqrt(6 / 500)
    assert np.abs(xavier).max() <= limit and np.abs(xavier).max() > 0.99 * limit
    he = nn.Linear(1000, 500, init="he", rng=0).W.data
    assert he.std() == pytest.approx(np.sqrt(2 / 1000), rel=0.02)
    with pytest.raises(ValueError, match="init"):
        nn.Linear(2, 2, init="zeros")


def test_activation_picks_the_initialisation():
    relu = nn.MLP([300, 200], activation="relu", seed=0).layers[0].W.data
    tanh = nn.MLP([300, 200], activation="tanh", seed=0).layers[0].W.data
    assert relu.std() == pytest.approx(np.sqrt(2 / 300), rel=0.03)  # He
    assert np.abs(tanh).max() <= np.sqrt(6 / 500)  # Xavier


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
def test_mlp_forward_puts_activations_between_layers_only(activation):
    model = nn.MLP([3, 5, 4, 2], activation=activation, seed=1)
    x = np.random.default_rng(0).standard_normal((6, 3))
    act = {
        "tanh": np.tanh,
        "relu": lambda v: np.maximum(v, 0),
        "sigmoid": lambda v: 1 / (1 + np.exp(-v)),
    }[activation]
    h = x
    for i, layer in enumerate(model.layers):
        h = h @ layer.W.data + layer.b.data
        if i < len(model.layers) - 1:
            h = act(h)
    np.testing.assert_allclose(model(x).data, h)
    np.testing.assert_allclose(model(Tensor(x)).data, h)


def test_bad_mlp_arguments():
    with pytest.raises(ValueError, match="activation"):
        nn.MLP([2, 2], activation="gelu")
    with pytest.raises(ValueError, match="sizes"):
        nn.MLP([2])


def test_parameters_found_recursively_once_each():
    shared = Tensor(np.ones(2), requires_grad=True)

    class Block(nn.Module):
        def __init__(self):
            self.inner = nn.Linear(2, 2, rng=0)
            self.extra = [shared, {"also": shared}]
            self.constant = Tensor(np.ones(2))  # no gradient: not a parameter

        def forward(self, x):
            return self.inner(x) * shared

    class Net(nn.Module):
        def __init__(self):
            self.blocks = (Block(), Block())
            self.scale = shared

    net = Net()
    params = net.parameters()
    assert len(params) == 5  # two Linear layers of (W, b), and the shared tensor once
    assert params[2] is shared
    assert len({id(p) for p in params}) == 5


def test_zero_grad_resets_to_none():
    model = nn.MLP([2, 3, 2])
    x = np.ones((4, 2))
    autodiff.cross_entropy(model(x), np.array([0, 1, 0, 1])).backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_module_forward_must_be_defined():
    with pytest.raises(NotImplementedError):
        nn.Module()(1)


def test_gradient_descent_on_an_mlp_fits_a_small_problem():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 2))
    y = (x[:, 0] * x[:, 1] > 0).astype(int)  # XOR-like: needs the hidden layer
    model = nn.MLP([2, 16, 2], activation="tanh", seed=0)
    losses = []
    for _ in range(300):
        loss = autodiff.cross_entropy(model(x), y)
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= 0.5 * p.grad
        losses.append(loss.item())
    assert losses[-1] < 0.3 * losses[0]
    accuracy = np.mean(np.argmax(model(x).data, axis=1) == y)
    assert accuracy > 0.9
