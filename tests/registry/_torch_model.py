from __future__ import annotations

import torch


class TinyNet(torch.nn.Module):
    def __init__(self, n_in: int) -> None:
        super().__init__()
        self.init_kwargs = {"n_in": n_in}
        self.linear = torch.nn.Linear(n_in, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x)
