"""neuroplug-swish's own test suite: validate its components with neuroplug's spec suite."""

from neuroplug.spec import parametrize_spec

from neuroplug_swish import Swish


@parametrize_spec(Swish(), Swish(beta=2.0))
def test_swish_meets_the_spec(check):
    check()


@parametrize_spec("activation:neuroplug-swish:swish_beta")
def test_installed_swish_beta_meets_the_spec(check):
    check()
