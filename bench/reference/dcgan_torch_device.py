"""Runs the DCGAN twin (shared/reference/dcgan_torch.py, kept outside the repository and CPU-only) on a chosen device.

  python3 bench/reference/dcgan_torch_device.py PATH/TO/dcgan_torch.py DEVICE STEPS THREADS   (DEVICE: cpu, cuda, cuda:N)

For a GPU, torch's default device makes the twin's modules and tensors live there (PyTorch >= 2.0), and its clock
waits for the GPU first: CUDA calls return before the work is done, so an unsynchronised timer measures only the
launches. On cpu it is the twin unchanged. Prints the twin's 'img/s N' line.
"""
import importlib.util, sys, time
import torch

twin_path, device, steps, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
spec = importlib.util.spec_from_file_location('dcgan_torch', twin_path)
twin = importlib.util.module_from_spec(spec)
spec.loader.exec_module(twin)
if device != 'cpu':
    torch.set_default_device(device)
    clock = time.perf_counter
    time.perf_counter = lambda: (torch.cuda.synchronize(device), clock())[1]  # the twin reads time.perf_counter per call
twin.main(steps, threads=threads)
