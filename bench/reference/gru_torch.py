"""A stack of torch.nn.GRU layers timed forward and forward+backward, for bench/gru_speed.ts only.

The same sizes as the aten side: input [B, T, E] (batch_first), `layers` single-layer GRUs of `units` each (one
nn.GRU per layer, as the ganforge stack has one layer object per GRU; a multi-layer nn.GRU runs the same kernels),
loss = sum of the last layer's outputs. torch.set_num_threads(threads) matches the aten side's thread count.
Run: /usr/bin/python3 bench/reference/gru_torch.py --batch 128 --time 24 --features 6 --units 24 --layers 3
Prints one JSON line: {"forward": {"wall": [ms per call per repeat], "cpu": [...]}, "forward+backward": {...}}.
"""
import argparse
import json
import time

import torch
import torch.nn as nn


def timed(f, calls, repeats, warmup):
    for _ in range(warmup):
        f()
    wall, cpu = [], []
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        for _ in range(calls):
            f()
        wall.append((time.perf_counter() - t) * 1000 / calls)
        cpu.append((time.process_time() - c) * 1000 / calls)
    return {'wall': wall, 'cpu': cpu}


def main():
    p = argparse.ArgumentParser()
    for name, default in (('batch', 128), ('time', 24), ('features', 6), ('units', 24), ('layers', 3), ('calls', 10),
                          ('repeats', 5), ('warmup', 3), ('threads', 1)):
        p.add_argument('--' + name, type=int, default=default)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    grus = nn.ModuleList([nn.GRU(a.features if i == 0 else a.units, a.units, batch_first=True) for i in range(a.layers)])
    x = torch.rand(a.batch, a.time, a.features)

    def apply():
        y = x
        for gru in grus:
            y, _ = gru(y)
        return y

    def forward():
        with torch.no_grad():
            apply().sum().item()

    def both():
        grus.zero_grad(set_to_none=True)
        loss = apply().sum()
        loss.backward()
        loss.item()

    print(json.dumps({'forward': timed(forward, a.calls, a.repeats, a.warmup),
                      'forward+backward': timed(both, a.calls, a.repeats, a.warmup)}))


if __name__ == '__main__':
    main()
