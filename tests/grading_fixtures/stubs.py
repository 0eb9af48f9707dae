# %%
try:
    import dlcourse
except ImportError:
    %pip install --quiet dlcourse
    import dlcourse

# %%
from dlcourse.grading import check, score

# %%
def dense_params(s_in, s_out, bias=True):
    # Your code here.
    raise NotImplementedError

# %%
check("expressivity.dense_params", dense_params)

# %%
def momentum_step(w, v, grad, lr, alpha):
    # Your code here.
    raise NotImplementedError

# %%
check("training.momentum_step", momentum_step)

# %%
score()
