"""A `_target_` names an optimizer or task class, checked by import alone; nested ones refused."""

import copy
import sys

import pytest
from omegaconf import OmegaConf

from optimizers import Adam
from trainer.config.compose import TrialChecker, to_plain
from trainer.config.errors import ConfigError
from trainer.config.targets import check_target, check_targets, find_nested_targets
from trainer.tasks.quadratic import Quadratic


def test_the_project_classes_and_a_users_own_resolve_to_their_class():
    assert check_target("optimizer", "optimizers.Adam") is Adam
    assert check_target("task", "trainer.tasks.quadratic.Quadratic") is Quadratic
    assert check_target("optimizer", "custom_optimizers.SignSGD").__name__ == "SignSGD"


@pytest.mark.parametrize(
    ("group", "target", "reason"),
    [
        ("optimizer", "builtins.dict", "builtins.dict is not a subclass of optimizers.Optimizer"),
        ("task", "builtins.dict", "builtins.dict is not a subclass of trainer.tasks.base.Task"),
        ("optimizer", "trainer.tasks.quadratic.Quadratic", "is not a subclass of optimizers"),
        ("task", "optimizers.Adam", "is not a subclass of trainer.tasks.base.Task"),
        ("optimizer", "optimizers.Optimizer", "is not a subclass of optimizers.Optimizer"),
        ("optimizer", "builtins.print", "builtins.print is a builtin_function_or_method, not"),
        ("optimizer", "nopackage.Opt", "no module named 'nopackage'"),
        ("optimizer", "optimizers.Adamm", "optimizers has no attribute 'Adamm'"),
        ("task", "trainer.tasks.quadratic.Quad", "trainer.tasks.quadratic has no attribute"),
        ("optimizer", "Adam", "it is not a dotted path to a class"),
        ("optimizer", "optimizers..Adam", "it is not a dotted path to a class"),
        ("optimizer", "os.system(1)", "it is not a dotted path to a class"),
        ("optimizer", 3, "it is not a dotted path to a class"),
        ("task", None, "it is not a dotted path to a class"),
    ],
)
def test_a_target_that_is_not_allowed_is_one_line_naming_the_key_and_what_is(group, target, reason):
    with pytest.raises(ConfigError) as raised:
        check_target(group, target)
    message = str(raised.value)
    assert message.startswith(f"{group}._target_={target} is not allowed: ")
    assert reason in message
    assert "it must name a subclass of" in message and "\n" not in message


def write_module(folder, name, source, monkeypatch):
    (folder / f"{name}.py").write_text(source)
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.delitem(sys.modules, name, raising=False)


def test_a_users_module_that_fails_to_import_is_one_line(tmp_path, monkeypatch):
    write_module(tmp_path, "broken_opt", "import numpyy\n", monkeypatch)
    write_module(tmp_path, "syntax_opt", "class S(:\n", monkeypatch)
    with pytest.raises(ConfigError, match="importing broken_opt failed: No module named 'numpyy'"):
        check_target("optimizer", "broken_opt.S")
    with pytest.raises(ConfigError, match="importing syntax_opt failed: SyntaxError") as raised:
        check_target("optimizer", "syntax_opt.S")
    assert "\n" not in str(raised.value)


def test_checking_a_target_only_imports_it(tmp_path, monkeypatch):
    source = (
        "from optimizers import Optimizer\n"
        "CALLS = []\n"
        "class Logged(Optimizer):\n"
        "    def __init__(self, *args, **kwargs):\n"
        "        CALLS.append(args)\n"
    )
    write_module(tmp_path, "logged_opt", source, monkeypatch)
    found = check_target("optimizer", "logged_opt.Logged")
    assert sys.modules["logged_opt"].CALLS == [] and found.__name__ == "Logged"


def test_nested_targets_are_found_wherever_they_hide():
    cfg = {
        "optimizer": {"_target_": "optimizers.SGD", "lr": 0.1},
        "task": {
            "_target_": "trainer.tasks.quadratic.Quadratic",
            "foo": {"_target_": "builtins.print", "_args_": ["X"]},
            "bar": [1, {"baz": {"_target_": "os.system"}}],
        },
        "trainer": {"_target_": "builtins.exec", "steps": 5},
    }
    assert find_nested_targets(cfg, "optimizer") == []
    assert find_nested_targets(cfg, "task") == ["task.foo._target_", "task.bar[1].baz._target_"]
    assert find_nested_targets(cfg, "trainer") == ["trainer._target_"]
    assert find_nested_targets(cfg, "tracking") == []


def test_nested_targets_in_a_composed_config_are_found_without_resolving_anything():
    cfg = OmegaConf.create(
        {
            "task": {
                "_target_": "trainer.tasks.quadratic.Quadratic",
                "foo": {"_target_": "builtins.print", "_args_": ["${oc.env:NOPE}"]},
            }
        }
    )
    assert find_nested_targets(cfg, "task") == ["task.foo._target_"]


def test_check_targets_refuses_a_nested_target_in_one_line(compose, capsys):
    cfg = compose(["task=quadratic", "+task.foo={_target_:builtins.print,_args_:[X]}"])
    with pytest.raises(ConfigError) as raised:
        check_targets(cfg)
    assert str(raised.value) == (
        "task.foo._target_ is not allowed: a class may be named only by "
        "optimizer._target_ or task._target_"
    )
    assert capsys.readouterr().out == ""


def test_check_targets_accepts_the_project_configs_and_refuses_a_wrong_group_target(compose):
    check_targets(compose(["task=rosenbrock", "optimizer=adam"]))
    with pytest.raises(ConfigError, match=r"^optimizer._target_=builtins.dict is not allowed"):
        check_targets(compose(["optimizer._target_=builtins.dict"]))


@pytest.mark.parametrize(
    ("overrides", "line"),
    [
        (
            ["+trainer.stpes=5"],
            "trainer.stpes is not allowed: trainer takes batch_size, divergence, eval_every, "
            "log_every, seed, steps",
        ),
        (
            ["+trainer.divergence.x=1"],
            "trainer.divergence.x is not allowed: trainer.divergence takes factor",
        ),
        (
            ["task=quadratic", "+task.seed=3"],
            "task.seed is not allowed: trainer.tasks.quadratic.Quadratic takes a, condition, start",
        ),
        (
            ["optimizer=adam", "+optimizer.momentum=0.9"],
            "optimizer.momentum is not allowed: optimizers.Adam takes delta, lr, rho1, rho2",
        ),
        (
            ["optimizer._partial_=false"],
            "optimizer._partial_=False is not allowed: it must be true, the trainer passes the "
            "parameters when it builds the optimizer",
        ),
    ],
)
def test_a_key_its_class_does_not_take_is_refused_in_one_line(compose, overrides, line):
    with pytest.raises(ConfigError) as raised:
        check_targets(compose(overrides))
    assert str(raised.value) == line


def test_a_users_class_takes_the_hyperparameters_it_declares(compose):
    clipped = ["optimizer=sgd", "optimizer._target_=custom_optimizers.ClippedSGD"]
    check_targets(compose([*clipped, "+optimizer.clip=0.5"]))
    # SignSGD keeps the base's **hyperparameters: the base insists they be its declared ranges.
    with pytest.raises(ConfigError, match=r"^optimizer.clip is not allowed: .*SignSGD takes lr$"):
        check_targets(
            compose(
                [
                    "optimizer=sgd",
                    "optimizer._target_=custom_optimizers.SignSGD",
                    "+optimizer.clip=1",
                ]
            )
        )


def test_the_trial_checker_checks_each_shape_of_config_once_and_a_new_shape_anew(compose):
    checker = TrialChecker()
    plain = to_plain(compose(["task=quadratic", "optimizer=momentum"]))
    checker.check(plain)
    other_values = copy.deepcopy(plain)
    other_values["optimizer"]["lr"], other_values["task"]["start"] = 0.5, [3.0, 4.0]
    checker.check(other_values)
    assert len(checker._shapes) == 1
    # The same keys, but a class hidden in a list: another shape, refused.
    hidden = copy.deepcopy(plain)
    hidden["task"]["start"] = [{"_target_": "builtins.print"}, 1.0]
    with pytest.raises(ConfigError, match=r"^task\.start\[0\]\._target_ is not allowed"):
        checker.check(hidden)
    wrong = copy.deepcopy(plain)
    wrong["optimizer"]["_target_"] = "builtins.dict"
    with pytest.raises(ConfigError, match=r"^optimizer\._target_=builtins\.dict is not allowed"):
        checker.check(wrong)
