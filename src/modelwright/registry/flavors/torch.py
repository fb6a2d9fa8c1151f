"""PyTorch modules (CPU): the state dict, loaded with ``weights_only=True``.

The module's class must be importable where the model is loaded, and constructible from the
keyword arguments it keeps in ``init_kwargs`` (an attribute of the module, default none).
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any, ClassVar

from modelwright.errors import InvalidInput
from modelwright.registry.flavors._util import class_path, version_of

__all__ = ["TorchFlavor"]

_FILE = "state_dict.pt"


class TorchFlavor:
    name: ClassVar[str] = "torch"
    pickle_based: ClassVar[bool] = False
    packages: ClassVar[tuple[str, ...]] = ("torch", "numpy")

    def handles(self, model: Any) -> bool:
        return any(
            c.__module__ == "torch.nn.modules.module" and c.__name__ == "Module"
            for c in type(model).__mro__
        )

    def save(self, model: Any, path: Path) -> dict[str, Any]:
        import torch

        cls = type(model)
        if cls.__module__ == "__main__" or "<locals>" in cls.__qualname__:
            raise InvalidInput(
                f"model: torch module class {cls.__qualname__} must be importable from a module "
                "(not defined in __main__ or inside a function) to be loaded again"
            )
        torch.save(model.state_dict(), path / _FILE)
        return {
            "file": _FILE,
            "class": class_path(model),
            "init_kwargs": dict(getattr(model, "init_kwargs", {}) or {}),
        }

    def load(self, path: Path, meta: dict[str, Any]) -> Any:
        import torch

        module_name, _, cls_name = str(meta["class"]).rpartition(".")
        cls = getattr(importlib.import_module(module_name), cls_name)
        model = cls(**meta.get("init_kwargs", {}))
        model.load_state_dict(torch.load(path / str(meta.get("file", _FILE)), weights_only=True))
        model.eval()
        return model

    def predict(self, model: Any, data: Any) -> Any:
        import numpy as np
        import torch

        values = data.to_numpy() if hasattr(data, "to_numpy") else np.asarray(data)
        with torch.no_grad():
            out = model(torch.as_tensor(values, dtype=torch.float32))
        return out.numpy()

    def describe(self, model: Any) -> dict[str, Any]:
        n = sum(int(p.numel()) for p in model.parameters())
        return {
            "class": class_path(model),
            "parameters": n,
            "library": "torch",
            "library_version": version_of("torch"),
        }
