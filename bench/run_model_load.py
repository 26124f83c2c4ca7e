"""Model loading benchmark: loopml ``load_model`` vs skops' own loader, in the same run.

Run from the repository root::

    .venv/bin/python bench/run_model_load.py [--quick] [--loopml-src PATH]

For each scikit-learn pipeline (StandardScaler + GradientBoostingClassifier with 100
trees, and StandardScaler + RandomForestClassifier with 100 trees, both on 5,000 rows of
10 numeric features), saved once with ``loopml.flavors.save_model``:

1. **load**: ``skops.io.load(path, trusted=types)`` with the types computed once beforehand
   (skops' bare loader, the strictest baseline) vs ``loopml.flavors.load_model(folder)``
   (manifest, BLAKE3 digest, format check, allow-list, then the same skops load). For
   context, skops' documented idiom ``load(path, trusted=get_untrusted_types(file=path))``
   is timed too. Bar: loopml **<= 2x** the bare loader (medians).
2. **predict one row**: ``raw.predict(row)`` on the estimator skops loaded vs
   ``loaded.predict(row)`` (signature enforcement, then the same estimator's predict),
   where ``row`` is a one-row pandas DataFrame. Bar: loopml **<= 1.5x** (medians). For
   context: a 1,000-row batch, and the signature check alone on the row.

Every pair is timed alternately, one call each per round after untimed warm-up calls, so
a busy machine slows both sides alike; medians are reported. Results go to
``bench/results/model-load-<UTC time>.json`` (git-ignored). Nothing asserts on time: a
missed bar prints ``NO`` and the exit status stays 0.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
LOAD_BAR = 2.0
PREDICT_BAR = 1.5


def paired(a: Callable[[], object], b: Callable[[], object], rounds: int) -> tuple[float, float]:
    """Median seconds of ``a`` and ``b``, timed alternately (which goes first alternates)."""
    for _ in range(3):
        a(), b()
    times: dict[str, list[float]] = {"a": [], "b": []}
    for index in range(rounds):
        order = (("a", a), ("b", b)) if index % 2 == 0 else (("b", b), ("a", a))
        for key, call in order:
            start = time.perf_counter()
            call()
            times[key].append(time.perf_counter() - start)
    return statistics.median(times["a"]), statistics.median(times["b"])


def build_models(n_rows: int) -> tuple[Any, dict[str, Any]]:
    import numpy as np
    import pandas as pd
    from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(42)
    frame = pd.DataFrame(rng.normal(size=(n_rows, 10)), columns=[f"f{i}" for i in range(10)])
    target = (frame["f0"] + frame["f1"] * frame["f2"] > 0).astype("int64")
    models = {
        "gradient-boosting": make_pipeline(
            StandardScaler(), GradientBoostingClassifier(n_estimators=100, random_state=0)
        ),
        "random-forest": make_pipeline(
            StandardScaler(), RandomForestClassifier(n_estimators=100, n_jobs=1, random_state=0)
        ),
    }
    for model in models.values():
        model.fit(frame, target)
    return frame, models


def measure(
    name: str, model: Any, frame: Any, folder: Path, rounds: dict[str, int]
) -> dict[str, Any]:
    import skops.io

    from loopml.flavors import Enforcer, load_model, save_model

    package = save_model(model, folder / name, input_example=frame)
    path = package.folder / "model.skops"
    types = skops.io.get_untrusted_types(file=path)

    def skops_load() -> Any:
        return skops.io.load(path, trusted=types)

    def skops_idiom() -> Any:
        return skops.io.load(path, trusted=skops.io.get_untrusted_types(file=path))

    def loopml_load() -> Any:
        return load_model(package.folder)

    load_skops, load_loopml = paired(skops_load, loopml_load, rounds["load"])
    load_idiom, _ = paired(skops_idiom, loopml_load, max(rounds["load"] // 3, 3))

    raw, loaded = skops_load(), loopml_load()
    row, batch = frame.iloc[:1].copy(), frame.iloc[:1000].copy()
    assert (raw.predict(batch) == loaded.predict(batch)).all()
    row_raw, row_loopml = paired(
        lambda: raw.predict(row), lambda: loaded.predict(row), rounds["row"]
    )
    batch_raw, batch_loopml = paired(
        lambda: raw.predict(batch), lambda: loaded.predict(batch), rounds["batch"]
    )
    enforcer = Enforcer(package.manifest.signature)
    enforce_row, _ = paired(lambda: enforcer(row), lambda: None, rounds["row"])
    return {
        "model": name,
        "file_bytes": path.stat().st_size,
        "load_s": {"skops": load_skops, "skops_idiom": load_idiom, "loopml": load_loopml},
        "load_ratio": load_loopml / load_skops,
        "predict_row_s": {"raw": row_raw, "loopml": row_loopml},
        "predict_row_ratio": row_loopml / row_raw,
        "signature_check_row_s": enforce_row,
        "predict_batch_1000_s": {"raw": batch_raw, "loopml": batch_loopml},
        "predict_batch_ratio": batch_loopml / batch_raw,
    }


def report(results: list[dict[str, Any]]) -> None:
    def ms(seconds: float) -> str:
        return f"{seconds * 1000:9.3f} ms"

    def verdict(ratio: float, bar: float) -> str:
        return "yes" if ratio <= bar else "NO"

    for result in results:
        load, row, batch = result["load_s"], result["predict_row_s"], result["predict_batch_1000_s"]
        print(f"\n{result['model']} ({result['file_bytes'] / 1e6:.1f} MB skops file)")
        print(f"  load     skops.io.load (trusted list)  {ms(load['skops'])}")
        print(f"           skops get_untrusted + load    {ms(load['skops_idiom'])}   (context)")
        print(
            f"           loopml load_model             {ms(load['loopml'])}   "
            f"ratio {result['load_ratio']:.2f}x  bar <= {LOAD_BAR}x: "
            f"{verdict(result['load_ratio'], LOAD_BAR)}"
        )
        print(f"  predict  raw.predict(1 row)            {ms(row['raw'])}")
        print(
            f"           loaded.predict(1 row)         {ms(row['loopml'])}   "
            f"ratio {result['predict_row_ratio']:.2f}x  bar <= {PREDICT_BAR}x: "
            f"{verdict(result['predict_row_ratio'], PREDICT_BAR)}"
        )
        print(
            f"           signature check alone         {ms(result['signature_check_row_s'])}"
            "   (context: loopml's own share of the 1-row predict)"
        )
        print(
            f"           1,000 rows raw / loopml       {ms(batch['raw'])} / {ms(batch['loopml']).strip()}"
            f"   ratio {result['predict_batch_ratio']:.2f}x  (context)"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds (a smoke run)")
    parser.add_argument(
        "--loopml-src", type=Path, help="import loopml from this src/ folder instead of .venv's"
    )
    args = parser.parse_args()
    if args.loopml_src:
        sys.path.insert(0, str(args.loopml_src.resolve()))
    rounds = {"load": 30, "row": 2000, "batch": 200}
    if args.quick:
        rounds = {key: max(value // 10, 3) for key, value in rounds.items()}

    started = datetime.now(UTC)
    machine = {
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "load_average_at_start": os.getloadavg(),
    }
    print(f"load average at start: {machine['load_average_at_start']}")
    frame, models = build_models(5000)
    with tempfile.TemporaryDirectory(prefix="loopml-bench-models-") as tmp:
        results = [measure(name, model, frame, Path(tmp), rounds) for name, model in models.items()]
    machine["load_average_at_end"] = os.getloadavg()
    import loopml

    report(results)
    print(f"\nload average at end: {machine['load_average_at_end']}")
    RESULTS_DIR.mkdir(exist_ok=True)
    out = RESULTS_DIR / f"model-load-{started:%Y%m%d-%H%M%S}{'-quick' if args.quick else ''}.json"
    record = {
        "started": started.isoformat(),
        "machine": machine,
        "loopml_from": str(Path(loopml.__file__).parent),
        "rounds": rounds,
        "results": results,
    }
    out.write_text(json.dumps(record, indent=2) + "\n")
    print(f"results: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
