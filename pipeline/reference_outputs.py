"""Write tests/data/reference_outputs.json: the shipped model's outputs on fixed texts.

tests/test_persistence.py loads the shipped model under whatever scikit-learn is installed and
checks it reproduces these to 1e-9, so a change of library version that changed predictions
would be caught. Run after retraining (pipeline/run.py does).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from csvnlp.persistence import load_bundle  # noqa: E402

TARGET = ROOT / "tests" / "data" / "reference_outputs.json"


def main() -> None:
    texts = json.loads(TARGET.read_text(encoding="utf-8"))["texts"]  # the texts stay fixed
    bundle = load_bundle(ROOT / "models" / "csvnlp-base")
    results = bundle.level_model.classify(texts)
    reference = {
        "note": f"Outputs of the shipped model (trained {bundle.meta['trained_at']}, scikit-learn "
                f"{bundle.meta['versions']['scikit-learn']}) for the 27 corpus cases and 4 other texts; the model loaded "
                "under the installed scikit-learn must reproduce them to 1e-9.",
        "texts": texts,
        "probabilities": bundle.level_model.predict_proba(texts).tolist(),
        "statuses": [r["status"] for r in results],
        "predicted": [r["predicted"] for r in results],
    }
    TARGET.write_text(json.dumps(reference, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {TARGET}")


if __name__ == "__main__":
    main()
