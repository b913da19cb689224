"""Each task trains to a stated bar; the quadratic's curvature facts match its Hessian."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from trainer.tasks.digits_mlp import DigitsMLP
from trainer.tasks.quadratic import Quadratic
from trainer.training.build import build_task
from trainer.training.loop import train

ROOT = Path(__file__).resolve().parents[2]


def numeric_hessian(task, point: np.ndarray, h: float = 1e-3) -> np.ndarray:
    """Central differences of the task's own autodiff gradient (exact for a quadratic)."""

    def gradient(at):
        task.point.data[...] = at
        task.point.grad = None
        task.loss().backward()
        return task.point.grad.copy()

    columns = []
    for i in range(len(point)):
        step = np.zeros_like(point)
        step[i] = h
        columns.append((gradient(point + step) - gradient(point - step)) / (2 * h))
    return np.array(columns).T


@pytest.mark.parametrize(("a", "condition"), [(1.0, 50.0), (2.0, 10.0), (0.5, 1.0)])
def test_quadratic_lambda_max_and_stable_lr_match_its_hessian(a, condition):
    task = Quadratic(a=a, condition=condition, start=(-10.0, 1.0))
    hessian = numeric_hessian(task, np.array([0.3, -0.7]))
    np.testing.assert_allclose(hessian, np.diag([a, a * condition]), rtol=1e-9, atol=1e-9)
    top = np.linalg.eigvalsh(hessian).max()
    assert task.lambda_max == pytest.approx(top, rel=1e-9)
    for momentum in (0.0, 0.5, 0.9):
        # Heavy ball on eigenvalue lam: z^2 - (1 + m - lr lam) z + m = 0 has both roots inside
        # the unit circle iff 0 < lr lam < 2 (1 + m).
        assert task.max_stable_lr(momentum) == pytest.approx(2 * (1 + momentum) / top, rel=1e-9)
    assert task.max_stable_lr() == pytest.approx(2 / top, rel=1e-9)


@pytest.mark.parametrize("momentum", [0.0, 0.9])
@pytest.mark.parametrize(("ratio", "outcome"), [(0.98, "converged"), (1.02, "diverged")])
def test_momentum_on_the_quadratic_diverges_just_above_max_stable_lr(
    compose, momentum, ratio, outcome
):
    bound = Quadratic().max_stable_lr(momentum)
    config = compose(
        [
            "optimizer=momentum",
            f"optimizer.lr={ratio * bound!r}",
            f"optimizer.momentum={momentum}",
            "task=quadratic",
            "trainer.steps=600",
        ]
    )
    assert build_task(config["task"], seed=0).max_stable_lr(momentum) == bound
    result = train(config)
    assert result.outcome == outcome
    if outcome == "converged":
        assert result.train_loss[-1] < 1e-6 * result.train_loss[0]


def test_quadratic_with_momentum_reaches_1e_8(compose):
    # Bar: final loss < 1e-8 (measured ~4e-22 from 75).
    config = compose(
        [
            "optimizer=momentum",
            "optimizer.lr=0.02",
            "optimizer.momentum=0.9",
            "task=quadratic",
            "trainer.steps=500",
        ]
    )
    result = train(config)
    assert result.outcome == "converged"
    assert result.final["final_train_loss"] < 1e-8
    assert np.abs(result.trajectory[-1]).max() < 1e-4


def test_digits_mlp_with_momentum_reaches_97_percent(compose):
    # Bar: validation accuracy >= 0.97 after 50 epochs (measured 0.9806).
    epochs_steps = 50 * int(np.ceil(1437 / 64))
    config = compose(
        [
            "optimizer=momentum",
            "optimizer.lr=0.1",
            "optimizer.momentum=0.9",
            "task=digits_mlp",
            "task.hidden=[64]",
            "task.activation=tanh",
            "trainer.batch_size=64",
            f"trainer.steps={epochs_steps}",
            "trainer.eval_every=200",
        ]
    )
    assert build_task(config["task"], seed=0).n_train == 1437
    result = train(config)
    assert result.outcome == "converged"
    assert result.final["final_val_accuracy"] >= 0.97
    assert result.evals[-1]["step"] == epochs_steps - 1
    assert result.final["final_val_loss"] < 0.5 * result.train_loss[0]


def test_digits_are_split_once_per_process_and_shared_read_only():
    first, second = DigitsMLP(seed=0), DigitsMLP(seed=1, hidden=(8,))
    assert all(a is b for a, b in zip(first.data(), second.data(), strict=True))
    x, y, x_val, y_val = first.data()
    assert (len(x), len(x_val)) == (1437, 360) and set(y) == set(y_val) == set(range(10))
    with pytest.raises(ValueError, match="read-only"):
        x[0, 0] = 1.0  # a trial cannot change the data the next trial trains on
    other = DigitsMLP(val_fraction=0.5).data()
    assert len(other[0]) == 898 and other[0] is not x


def test_rosenbrock_with_momentum_reaches_the_valley_floor(compose):
    # Bar: final loss < 1e-6 and within 1e-3 of (1, 1) (measured 1.4e-8, 2.3e-4 away).
    config = compose(
        [
            "optimizer=momentum",
            "optimizer.lr=0.001",
            "optimizer.momentum=0.9",
            "task=rosenbrock",
            "trainer.steps=2000",
        ]
    )
    result = train(config)
    assert result.outcome == "converged"
    assert result.final["final_train_loss"] < 1e-6
    np.testing.assert_allclose(result.trajectory[-1], [1.0, 1.0], atol=1e-3)


def test_rosenbrock_with_adam_as_in_the_readme_example(compose):
    # Bar: final loss < 0.05 from 12.5 (measured 0.0077: Adam is still walking the valley).
    config = compose(
        ["optimizer=adam", "optimizer.lr=0.01", "task=rosenbrock", "trainer.steps=2000"]
    )
    result = train(config)
    assert result.outcome == "converged"
    assert result.final["final_train_loss"] < 0.05


def test_linear_regression_with_sgd_matches_least_squares(compose):
    # Bar: validation MSE within 5% of the exact least-squares fit's (measured 0.00828 vs 0.00840).
    config = compose(
        ["optimizer=sgd", "optimizer.lr=0.1", "task=linear_regression", "trainer.steps=500"]
    )
    task = build_task(config["task"], seed=0)
    design = np.c_[task.x, np.ones(len(task.x))]
    weights = np.linalg.lstsq(design, task.y, rcond=None)[0]
    reference = np.mean((np.c_[task.x_val, np.ones(len(task.x_val))] @ weights - task.y_val) ** 2)

    result = train(config)
    assert result.outcome == "converged"
    assert result.final["final_val_loss"] <= 1.05 * reference
    assert [e["step"] for e in result.evals] == list(range(49, 500, 50))


def test_logistic_regression_with_sgd_matches_a_reference_fit(compose):
    # Bars: validation accuracy >= reference - 0.02 and log loss <= 1.05 x reference
    # (measured 0.815 vs 0.82, and 0.347 vs 0.351, against scikit-learn's unregularised fit).
    # scikit-learn imported here, not at collection: a second or more in every worker.
    from sklearn.linear_model import LogisticRegression as ReferenceLogistic
    from sklearn.metrics import log_loss

    config = compose(
        ["optimizer=sgd", "optimizer.lr=0.5", "task=logistic_regression", "trainer.steps=500"]
    )
    task = build_task(config["task"], seed=0)
    reference = ReferenceLogistic(C=1e6, max_iter=1000).fit(task.x, task.y)
    reference_accuracy = reference.score(task.x_val, task.y_val)
    reference_loss = log_loss(task.y_val, reference.predict_proba(task.x_val)[:, 1])

    result = train(config)
    assert result.outcome == "converged"
    assert result.final["final_val_accuracy"] >= reference_accuracy - 0.02
    assert result.final["final_val_loss"] <= 1.05 * reference_loss


@pytest.mark.parametrize("val_fraction", [0.05, 0.2, 0.33, 0.5, 0.9])
def test_digits_training_rows_are_known_before_the_data_loads(val_fraction):
    task = DigitsMLP(val_fraction=val_fraction)
    x, y, x_val, y_val = task.data()
    assert task.n_train == len(x) == len(y)
    assert len(x) + len(x_val) == len(y) + len(y_val) == 1797


@pytest.mark.slow  # a new interpreter, so that nothing is imported yet
def test_building_the_digits_task_leaves_scikit_learn_unimported():
    """A sweep's driver checks batch sizes against the task without paying for the import."""
    code = (
        "import sys; from trainer.tasks.digits_mlp import DigitsMLP; DigitsMLP(); "
        "print('sklearn' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert done.stdout.strip() == "False"
