"""Trial script for the GPU test: which devices does this trial see, and can it compute?"""

import os

import torch
from syne_tune import Reporter

if __name__ == "__main__":
    count = torch.cuda.device_count()
    value = -1.0
    if count:
        ones = torch.ones(64, 64, device="cuda")
        value = float((ones @ ones).sum().item())
    visible = os.environ.get("CUDA_VISIBLE_DEVICES", "<unset>")
    Reporter()(devices=count, value=value, visible=visible)
