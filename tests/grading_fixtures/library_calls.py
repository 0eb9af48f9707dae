# %%
# Ordinary library calls that read the call stack or start helpers must keep working while grading.
import collections
import enum
import logging
import traceback
import typing
import warnings

import matplotlib._api
import torch
from tqdm.auto import tqdm

import dlcourse
from dlcourse.grading import check

dlcourse.seed_everything(0)
torch.manual_seed(1)
Point = collections.namedtuple("Point", "x y")
Color = enum.Enum("Color", "RED GREEN")
T = typing.TypeVar("T")
logging.getLogger("submission").warning("a warning through logging")
warnings.warn("a warning")
traceback.format_stack()
matplotlib._api.warn_external("a warning through matplotlib")
total = sum(i for i in tqdm(range(10)))

# %%
def dense_params(s_in, s_out, bias=True):
    return s_in * s_out + (s_out if bias else 0)

def momentum_step(w, v, grad, lr, alpha):
    v = lr * grad + alpha * v
    return w - v, v

# %%
check("expressivity.dense_params", dense_params)
check("training.momentum_step", momentum_step)
