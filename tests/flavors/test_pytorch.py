"""PyTorch: state_dict weights (safe) and TorchScript programs (untrusted).

torch is not in the dev extra (its Linux wheels pull gigabytes of CUDA libraries), so
these tests run only where torch is installed.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from loopml.core.errors import ValidationError
from loopml.flavors import FormatMismatchError, UntrustedModelError, load_model, save_model

from .conftest import malicious_pickle, replace_model_file

torch = pytest.importorskip("torch")


class TinyNet(torch.nn.Module):  # type: ignore[misc,name-defined]
    """Two inputs, one output."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # type: ignore[name-defined]
        return self.linear(x)


EXAMPLE = pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]})


def _raw(module: object) -> np.ndarray:
    with torch.no_grad():
        return module(torch.tensor(EXAMPLE.to_numpy(), dtype=torch.float32)).numpy()


def test_a_state_dict_round_trip_predicts_like_the_module(tmp_path: Path) -> None:
    torch.manual_seed(0)
    module = TinyNet()

    loaded = load_model(save_model(module, tmp_path / "m", input_example=EXAMPLE).folder)

    np.testing.assert_array_equal(loaded.predict(EXAMPLE), _raw(module))
    assert (tmp_path / "m" / "state_dict.pt").is_file()


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated")  # Future- or Deprecation-
def test_torchscript_needs_trust_and_then_predicts_like_the_module(tmp_path: Path) -> None:
    scripted = torch.jit.script(TinyNet())
    folder = save_model(scripted, tmp_path / "m", input_example=EXAMPLE).folder

    with pytest.raises(UntrustedModelError, match="TorchScript files are programs"):
        load_model(folder)
    np.testing.assert_array_equal(load_model(folder, trust=True).predict(EXAMPLE), _raw(scripted))


def test_a_class_that_cannot_be_imported_later_is_refused(tmp_path: Path) -> None:
    class Local(torch.nn.Module):  # type: ignore[misc,name-defined]
        def forward(self, x: object) -> object:
            return x

    with pytest.raises(ValidationError, match="cannot be imported"):
        save_model(Local(), tmp_path / "m")


def test_a_pickle_inside_a_state_dict_archive_is_refused_by_the_weights_only_loader(
    tmp_path: Path, marker: Path
) -> None:
    folder = save_model(TinyNet(), tmp_path / "m").folder
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as writer:
        writer.writestr("archive/data.pkl", malicious_pickle(marker, protocol=2))
        writer.writestr("archive/version", "3\n")
    replace_model_file(folder, archive.getvalue())

    with pytest.raises(FormatMismatchError, match="weights-only"):
        load_model(folder)
    assert not marker.exists()
