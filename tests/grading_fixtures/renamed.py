# %%
from dlcourse.grading import check

# %%
def my_dense(s_in, s_out, bias=True):
    return s_in * s_out + (s_out if bias else 0)

# %%
check("expressivity.dense_params", my_dense)
check("training.momentum_step", lambda w, v, grad, lr, alpha: (w - (lr * grad + alpha * v), lr * grad + alpha * v))
