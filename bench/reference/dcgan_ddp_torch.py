"""The PyTorch DDP twin of ganforge's DCGAN step: the network, loss and optimizer of shared/reference/dcgan_torch.py,
trained data-parallel over --ranks processes (Gloo on 127.0.0.1, spawned here so one command runs it).

  /usr/bin/python3 bench/reference/dcgan_ddp_torch.py --ranks 2 --batch 64 --threads 1 --steps 30 --warmup 5

--batch is the GLOBAL batch (each rank trains batch/ranks images), --threads the intra- and inter-op threads of each
rank. Prints one line, 'torch-ddp ranks=N img/s=X': global training images per second, timed on rank 0 between two
barriers after the warm-up. With --ranks 1 the nets are not wrapped in DDP (a 1-rank group only for the barriers),
so the figure is the plain step's. Data is random, as in the twin.
"""
import argparse, contextlib, os, socket, time
import torch, torch.nn as nn, torch.distributed as dist, torch.multiprocessing as mp
from torch.nn.parallel import DistributedDataParallel as DDP

# dcgan_torch.py builds G and D as locals inside its main(), so there is nothing to import: the same layers
# are written here (G: z(100) -> 7*7*128 -> BN -> ReLU -> ConvT 64 -> BN -> ReLU -> ConvT 1 -> tanh;
# D: Conv 64 -> LReLU -> Conv 128 -> BN -> LReLU -> Dense 1), 1.58 M parameters in all.
def nets():
    g = nn.Sequential(nn.Linear(100, 7 * 7 * 128), nn.BatchNorm1d(7 * 7 * 128), nn.ReLU(), nn.Unflatten(1, (128, 7, 7)),
                      nn.ConvTranspose2d(128, 64, 4, 2, 1), nn.BatchNorm2d(64), nn.ReLU(),
                      nn.ConvTranspose2d(64, 1, 4, 2, 1), nn.Tanh())
    d = nn.Sequential(nn.Conv2d(1, 64, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(64, 128, 4, 2, 1), nn.BatchNorm2d(128),
                      nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(128 * 7 * 7, 1))
    return g, d


def worker(rank, args, port):
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(args.threads)
    dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank, world_size=args.ranks)
    torch.manual_seed(0)  # same initial weights everywhere (DDP also broadcasts rank 0's)
    G, D = nets()
    if args.ranks > 1:
        # broadcast_buffers=False: batch norm's running stats stay per rank; broadcasting them before each of D's
        # three forwards per step rewrites buffers the pending backward still needs.
        G, D = DDP(G, broadcast_buffers=False), DDP(D, broadcast_buffers=False)
    oG = torch.optim.Adam(G.parameters(), 2e-4, betas=(0.5, 0.999))
    oD = torch.optim.Adam(D.parameters(), 2e-4, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    b = args.batch // args.ranks
    torch.manual_seed(1 + rank)  # each rank its own data
    real = torch.rand(b, 1, 28, 28) * 2 - 1
    # The G step back-propagates through D only to reach G: D's gradients there are thrown away, so they are
    # not all-reduced (no_sync); G's are, by G's own DDP hooks.
    skip_d_sync = D.no_sync if args.ranks > 1 else contextlib.nullcontext

    def step():
        fake = G(torch.randn(b, 100))
        lr, lf = D(real), D(fake.detach())
        loss_d = bce(lr, torch.ones_like(lr)) + bce(lf, torch.zeros_like(lf))
        oD.zero_grad(); loss_d.backward(); oD.step()
        with skip_d_sync():
            lf = D(fake)
            loss_g = bce(lf, torch.ones_like(lf))
            oG.zero_grad(); loss_g.backward()
        oG.step()

    for _ in range(args.warmup):
        step()
    dist.barrier()
    t = time.perf_counter()
    for _ in range(args.steps):
        step()
    dist.barrier()
    if rank == 0:
        print('torch-ddp ranks=%d img/s=%.1f' % (args.ranks, args.steps * args.batch / (time.perf_counter() - t)),
              flush=True)
    dist.destroy_process_group()


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--ranks', type=int, default=2)
    p.add_argument('--batch', type=int, default=64, help='global batch')
    p.add_argument('--threads', type=int, default=1, help='threads per rank')
    p.add_argument('--steps', type=int, default=30)
    p.add_argument('--warmup', type=int, default=5)
    args = p.parse_args()
    if args.ranks < 1 or args.batch % args.ranks:
        p.error(f'--batch {args.batch} must be a positive multiple of --ranks {args.ranks}')
    os.environ.setdefault('GLOO_SOCKET_IFNAME', 'lo')  # Gloo's default device follows the hostname, not loopback
    if args.ranks == 1:
        worker(0, args, free_port())  # no child process: nothing a plain run would not have
    else:
        mp.spawn(worker, (args, free_port()), nprocs=args.ranks)
