#!/usr/bin/env python3
"""torch_cpu_time.py -- runs ../shared/bench/torch_reference.py with its step timer switched
from wall-clock time (time.perf_counter) to the process's CPU time (time.process_time).

With --threads 1 a step's CPU time is its work alone, which other jobs on a shared machine
barely change; compare it with `vae bench --threads 1` (train CPU ms/step). Every argument
goes to torch_reference.py; its path comes from $TORCH_REFERENCE or the default below.

    python3 bench/torch_cpu_time.py --threads 1 --models ABC --json out.json
"""
import os
import runpy
import sys
import time

path = os.environ.get("TORCH_REFERENCE",
                      os.path.join(os.path.dirname(__file__), "..", "..", "shared", "bench", "torch_reference.py"))
time.perf_counter = time.process_time  # the reference reads time.perf_counter() around each step
sys.argv = [path] + sys.argv[1:]
runpy.run_path(path, run_name="__main__")
