# %%
import numpy as np
from dlcourse.grading import check

# %%
class Sneaky:
    """An object whose unpickling would run code: it must never be unpickled by the grader."""
    def __reduce__(self):
        return (print, ("unpickled!",))

def momentum_step(w, v, grad, lr, alpha):
    return Sneaky()

# %%
def dense_params(s_in, s_out, bias=True):
    return np.int64(s_in * s_out + (s_out if bias else 0))   # a NumPy integer is fine
