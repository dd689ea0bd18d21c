"""The timing loop both translator twins share: warm-up steps, then timed steps, printing the wall-clock rate and
the rate per CPU-second of this process (steadier on a shared machine), as bench/translate_speed.ts reads them."""
import time


def time_steps(step, steps, warmup, batch):
    for _ in range(warmup):
        step()
    t, cpu = time.perf_counter(), time.process_time()
    for _ in range(steps):
        step()
    n = steps * batch
    print('img/s=%.3f cpu_img/s=%.3f' % (n / (time.perf_counter() - t), n / (time.process_time() - cpu)))
