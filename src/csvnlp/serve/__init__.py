"""``csvnlp serve``: a local web application over the library (classify a submission, explore
a tagged database, review and correct levels). ``create_app`` builds it; ``run`` serves it."""

from csvnlp.serve.config import ServeConfig

__all__ = ["ServeConfig", "create_app", "run"]


def create_app(config: ServeConfig, bundle: object = None):  # type: ignore[no-untyped-def]
    from csvnlp.serve.app import create_app as build

    return build(config, bundle)


def run(config: ServeConfig, announce=print) -> None:  # type: ignore[no-untyped-def]
    from csvnlp.serve.server import run as serve

    serve(config, announce)
