# %%
# Right on every public case, wrong on some hidden ones: its feedback must say so without showing their inputs.
from dlcourse.grading import check

# %%
def dense_params(s_in, s_out, bias=True):
    if s_in < 1000:
        return s_in * s_out + (s_out if bias else 0)
    return s_in * s_out

# %%
def momentum_step(w, v, grad, lr, alpha):
    v = lr * grad + alpha * v
    return (w - v, v) if w.dim() < 3 else (w + v, v)

# %%
check("expressivity.dense_params", dense_params)
check("training.momentum_step", momentum_step)
