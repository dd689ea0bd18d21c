"""What the twins share: their timing flags and start (--steps, --warmup, --threads, seed 0), the timing loop (warm-up
steps, then timed steps, printing the wall-clock rate and the rate per CPU-second of this process, steadier on a
shared machine, as bench/step_bench.ts reads them), and DCGAN's upsampling count, the side a generator starts from
(src/models/dcgan.ts `upsamplings`)."""
import os
import time

import torch


def time_steps(step, steps, warmup, batch):
    for _ in range(warmup):
        step()
    t, cpu = time.perf_counter(), time.process_time()
    for _ in range(steps):
        step()
    n = steps * batch
    print('img/s=%.3f cpu_img/s=%.3f' % (n / (time.perf_counter() - t), n / (time.process_time() - cpu)))
    if os.environ.get('TWIN_PROFILE'):
        profile_step(step, int(os.environ['TWIN_PROFILE']))


def profile_step(step, top, steps=5):
    """TWIN_PROFILE=N: five more steps under torch.profiler; the costliest ops by self CPU time, by name and then the
    N costliest with their input shapes, to set beside the aten bench's --profile table (times are for all five)."""
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        for _ in range(steps):
            step()
    print('torch.profiler, %d steps' % steps)
    print(prof.key_averages().table(sort_by='self_cpu_time_total', row_limit=20))
    print(prof.key_averages(group_by_input_shape=True).table(sort_by='self_cpu_time_total', row_limit=top))


def upsamplings(side):
    """(base, n): halve `side` while it is above 8 and even; a generator starts at base and doubles n times."""
    base, n = side, 0
    while base > 8 and base % 2 == 0:
        base //= 2
        n += 1
    return base, n


def add_timing_args(p, steps, warmup):
    """The flags every twin takes: timed steps, warm-up steps, intra-op threads (0: torch's default)."""
    p.add_argument('--steps', type=int, default=steps)
    p.add_argument('--warmup', type=int, default=warmup)
    p.add_argument('--threads', type=int, default=0)


def parse_twin_args(p):
    """Parses the flags, applies --threads and seeds torch with 0, so a twin starts from the same weights every run."""
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    return args
