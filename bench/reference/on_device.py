"""Runs a PyTorch twin on a chosen device: python3 bench/reference/on_device.py DEVICE SCRIPT ARGS…

The twins are written for the CPU. Torch's default device (PyTorch >= 2.0) puts their modules and tensors on
DEVICE, and the wall clock they read (time.perf_counter) first waits for the device: CUDA calls return before
the work is done, so an unsynchronised clock would time only the launches. On cpu the twin runs unchanged.
"""
import runpy, sys, time
import torch

device, script = sys.argv[1], sys.argv[2]
if device != 'cpu':
    torch.set_default_device(device)
if device.startswith('cuda'):
    clock = time.perf_counter
    time.perf_counter = lambda: (torch.cuda.synchronize(device), clock())[1]
sys.argv = [script, *sys.argv[3:]]
runpy.run_path(script, run_name='__main__')
