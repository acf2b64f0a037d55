import inspect
import types

import pytest

import acctgraph as ag

SUBMODULES_EXPORTED = {"evaluation", "scoring", "synth"}


def test_all_is_sorted_and_lists_exactly_the_public_names():
    assert ag.__all__ == sorted(ag.__all__)
    public = {
        name
        for name in dir(ag)
        if not name.startswith("_")
        and (not isinstance(getattr(ag, name), types.ModuleType) or name in SUBMODULES_EXPORTED)
    }
    assert set(ag.__all__) == public


@pytest.mark.parametrize(
    ("error", "builtin"),
    [
        (ag.SchemaError, ValueError),
        (ag.ConfigError, ValueError),
        (ag.InputFileError, OSError),
        (ag.OutputError, OSError),
        (ag.UnknownClusterError, KeyError),
    ],
)
def test_every_error_derives_from_the_base_and_the_fitting_builtin(error, builtin):
    assert issubclass(error, ag.AcctGraphError)
    assert issubclass(error, builtin)


def test_every_error_class_in_the_package_is_an_acctgraph_error():
    from acctgraph import exceptions

    classes = [
        c
        for _, c in inspect.getmembers(exceptions, inspect.isclass)
        if c.__module__ == exceptions.__name__
    ]
    errors = [c for c in classes if issubclass(c, Exception) and not issubclass(c, Warning)]
    assert errors and all(issubclass(c, ag.AcctGraphError) for c in errors)
    assert issubclass(ag.HubAttributesDropped, ag.AcctGraphWarning)


def test_detect_arguments_after_the_data_are_keyword_only():
    params = list(inspect.signature(ag.detect).parameters.values())
    assert params[0].name == "events"
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params[1:])
