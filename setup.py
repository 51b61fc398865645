"""Only what pyproject.toml cannot say: the shipped model (models/csvnlp-base, its source in
this repository) is copied into the package as csvnlp/model_data/csvnlp-base, so a wheel
carries it and `csvnlp classify` works wherever csvnlp is installed."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

MODEL_SOURCE = Path(__file__).resolve().parent / "models" / "csvnlp-base"


class BuildPyWithModel(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install finds models/ beside src/ (csvnlp.persistence)
        target = Path(self.build_lib) / "csvnlp" / "model_data" / "csvnlp-base"
        if not (MODEL_SOURCE / "meta.json").is_file():
            raise SystemExit(f"no model at {MODEL_SOURCE}: run `python pipeline/run.py train` before building")
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(MODEL_SOURCE, target)


setup(cmdclass={"build_py": BuildPyWithModel})
