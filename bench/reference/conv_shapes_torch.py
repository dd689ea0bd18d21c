"""PyTorch side of bench/conv_shapes.ts: for each convolution (JSON list of {x NHWC, filter [kh, kw, in, out], stride,
pad}), the best ms of its forward, input gradient and weight gradient on NCHW tensors, printed as JSON; --flush MB
writes that many MB before each timed call (cold caches, as inside a training step)."""
import argparse
import json
import time

import torch


FLUSH = torch.zeros(0)


def best_ms(fn, reps):
    for _ in range(3):
        fn()
    times = []
    for _ in range(reps):
        FLUSH[::16] += 1
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return min(times)


def same_padding(size, k, s):
    out = -(-size // s)
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--reps', type=int, default=20)
    p.add_argument('--threads', type=int, default=0)
    p.add_argument('--flush', type=float, default=0)
    p.add_argument('cases')
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    global FLUSH
    FLUSH = torch.zeros(int(args.flush * 2 ** 20) // 4)
    results = []
    for case in json.loads(args.cases):
        b, h, w, cin = case['x']
        kh, kw, _, cout = case['filter']
        s = case['stride']
        x = torch.randn(b, cin, h, w)
        weight = torch.randn(cout, cin, kh, kw)
        if case['pad'] == 'same':
            top, bottom = same_padding(h, kh, s)
            if top != bottom:  # PyTorch pads symmetrically; an uneven 'same' is rare in these models: pad once up front
                x = torch.nn.functional.pad(x, (top, bottom, top, bottom))
                pad = 0
            else:
                pad = top
        else:
            pad = 0
        y = torch.nn.functional.conv2d(x, weight, None, s, pad)
        dy = torch.randn_like(y)
        bw = lambda mask: torch.ops.aten.convolution_backward(dy, x, weight, None, [s, s], [pad, pad], [1, 1], False, [0, 0], 1, mask)
        results.append([
            best_ms(lambda: torch.nn.functional.conv2d(x, weight, None, s, pad), args.reps),
            best_ms(lambda: bw([True, False, False]), args.reps),
            best_ms(lambda: bw([False, True, False]), args.reps),
        ])
    print(json.dumps(results))


if __name__ == '__main__':
    main()
