# %%
# Send the answers out: a TCP connection and a UDP datagram to a listener on the grader's machine.
import socket

from dlcourse.grading import check

PORT = __PORT__
for attempt in range(2):
    try:
        with socket.create_connection(("127.0.0.1", PORT), timeout=1) as s:
            s.sendall(b"def momentum_step(w, v, grad, lr, alpha): ...")
    except OSError:
        pass
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(b"answers", ("127.0.0.1", PORT))
    except OSError:
        pass

# %%
def dense_params(s_in, s_out, bias=True):
    return s_in * s_out + (s_out if bias else 0)

def momentum_step(w, v, grad, lr, alpha):
    v = lr * grad + alpha * v
    return w - v, v

# %%
check("expressivity.dense_params", dense_params)
check("training.momentum_step", momentum_step)
