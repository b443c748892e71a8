#!/usr/bin/env python3
"""profile_summary.py -- groups the CK_PROFILE tables that `vae bench` prints (stderr) into
the parts of a training step: convolution passes, dense layers, loss, Adam, the rest, and
the time outside the C kernels (Swift, step bookkeeping) = mean step - sum of operations.

    CK_PROFILE=1 vae bench --threads 1 2>&1 | python3 bench/profile_summary.py [wall|cpu]

wall (the default) gives shares of the mean step and the time outside the kernels; cpu gives
shares of the operations' CPU time, steadier on a busy machine.
"""
import re
import sys

GROUPS = [
    ("conv forward (+act)", r"ck_(de)?conv2d_forward"),
    ("conv backward-data (+act)", r"ck_(de)?conv2d_backward_data"),
    ("conv backward-weights (+bias)", r"ck_(de)?conv2d_backward_weights"),
    ("dense", r"ck_dense_"),
    ("activations (unfused)", r"ck_activation_"),
    ("loss (Bernoulli)", r"ck_(bernoulli|gaussian|logistic)_nll"),
    ("Adam", r"ck_adam_update"),
    ("KL, noise, reparameterize, sums", r"ck_(kl_|random_|reparameterize|sum|backend_synchronize)"),
]


def flush(title, step, rows, column):
    if not title:
        return
    total = {name: 0.0 for name, _ in GROUPS}
    other = 0.0
    for key, value in rows:
        for name, pattern in GROUPS:
            if re.match(pattern, key):
                total[name] += value
                break
        else:
            other += value
    ops = sum(total.values()) + other
    # wall: shares of the mean step, the rest being Swift; cpu: shares of the operations' CPU
    # time (a step's wall time is not comparable with CPU time summed over threads)
    whole = step if column == "wall" else ops
    print(f"{title}: mean step {step:.2f} ms wall, operations {ops:.2f} ms {column} per step")
    for name, _ in GROUPS:
        if total[name] > 0:
            print(f"  {name:34s} {total[name]:8.2f}  {100 * total[name] / whole:5.1f}%")
    if other > 0:
        print(f"  {'other operations':34s} {other:8.2f}  {100 * other / whole:5.1f}%")
    if column == "wall":
        print(f"  {'outside the kernels (Swift)':34s} {step - ops:8.2f}  {100 * (step - ops) / step:5.1f}%")


column = sys.argv[1] if len(sys.argv) > 1 else "wall"
title, step, rows = None, 0.0, []
for line in sys.stdin:
    m = re.match(r"== CK_PROFILE (\S+ \S+), batch \d+, mean step ([\d.]+) ms", line)
    if m:
        flush(title, step, rows, column)
        title, step, rows = m.group(1), float(m.group(2)), []
        continue
    m = re.match(r"(ck_\S+(?: \S+)*?)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)$", line.rstrip())
    if m and title:
        rows.append((m.group(1), float(m.group(2) if column == "wall" else m.group(3))))
flush(title, step, rows, column)
