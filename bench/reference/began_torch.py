"""The BEGAN training step in PyTorch, for speed comparisons with ganforge's aten backend only.

The networks are those of src/models/began.ts on images of side base * 2^n (28 = 7 * 2^2, 32 = 8 * 2^2), 3x3
convolutions with ELUs throughout:
  D encoder: conv(width) -> per scale l = 0..n: conv(width(l+1)) x 2, and for l < n a stride-2 conv(width(l+2))
             -> flatten -> Linear(h), no activation.
  D decoder and G (same architecture, own weights): Linear(h or z, base^2 * width) -> reshape -> per scale: conv(width)
             x 2, and for l < n a nearest-neighbour x2 up-sampling -> conv(C), no activation.
The step is ganforge's beganStep: G's update on L(G(z)) (D's parameters frozen), then D's on
L(x) - k * L(G(z).detach()) with the same G(z) and D as G's, L(v) the per-example mean |v - D(v)| averaged over the
batch; then k <- clip(k + 0.001 (0.75 L(x) - L(G(z))), 0, 1) and M = L(x) + |0.75 L(x) - L(G(z))| as Python floats.
Adam (1e-4, betas 0.5, 0.999) on both; both losses and both energies are read every step, as ganforge's are.
Run: /usr/bin/python3 bench/reference/began_torch.py --size 28 --batch 16 --steps 10 --threads 2
Prints the parameter counts, then 'img/s=<n>' and 'cpu_img/s=<n>' (see twin_timing.py).
"""
import argparse

import torch
import torch.nn as nn
import torch.nn.functional as F

from twin_timing import add_timing_args, parse_twin_args, time_steps, upsamplings


def conv(cin, cout, stride=1):
    return [nn.Conv2d(cin, cout, 3, stride, 1), nn.ELU()]


class Decoder(nn.Module):
    def __init__(self, h, base, n, channels, width):
        super().__init__()
        self.base, self.width = base, width
        self.fc = nn.Linear(h, base * base * width)
        layers = []
        for level in range(n + 1):
            layers += conv(width, width) + conv(width, width)
            if level < n:
                layers.append(nn.Upsample(scale_factor=2, mode='nearest'))
        layers.append(nn.Conv2d(width, channels, 3, 1, 1))
        self.body = nn.Sequential(*layers)

    def forward(self, h):
        return self.body(self.fc(h).view(-1, self.base, self.base, self.width).permute(0, 3, 1, 2))


class Encoder(nn.Module):
    def __init__(self, h, base, n, channels, width):
        super().__init__()
        layers = conv(channels, width)
        for level in range(n + 1):
            c = width * (level + 1)
            layers += conv(c, c) + conv(c, c)  # the previous stride-2 conv (or the first conv) gave c channels
            if level < n:
                layers += conv(c, width * (level + 2), 2)
        self.body = nn.Sequential(*layers)
        self.fc = nn.Linear(base * base * width * (n + 1), h)

    def forward(self, x):
        # Flatten channels-last, as tfjs-layers' flatten does.
        return self.fc(self.body(x).permute(0, 2, 3, 1).flatten(1))


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--size', type=int, default=28)
    p.add_argument('--channels', type=int, default=1)
    p.add_argument('--batch', type=int, default=16)
    p.add_argument('--width', type=int, default=64)
    p.add_argument('--latent', type=int, default=64)
    add_timing_args(p, steps=10, warmup=2)
    args = parse_twin_args(p)
    base, n = upsamplings(args.size)
    G = Decoder(args.latent, base, n, args.channels, args.width)
    D = nn.Sequential(Encoder(args.latent, base, n, args.channels, args.width), Decoder(args.latent, base, n, args.channels, args.width))
    print('params G=%d D=%d' % (sum(q.numel() for q in G.parameters()), sum(q.numel() for q in D.parameters())))
    opt_g = torch.optim.Adam(G.parameters(), lr=1e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=1e-4, betas=(0.5, 0.999))
    data = torch.rand(256, args.channels, args.size, args.size) * 2 - 1
    b = args.batch
    state = {'k': 0.0}

    def L(v):
        return (D(v) - v).abs().flatten(1).mean(1).mean()

    def step():
        real = data[torch.randint(0, data.shape[0], (b,))]
        # G: L(G(z)) under D as it is.
        for q in D.parameters():
            q.requires_grad_(False)
        opt_g.zero_grad(set_to_none=True)
        fake = G(torch.randn(b, args.latent))
        loss_g = L(fake)
        loss_g.backward()
        opt_g.step()
        for q in D.parameters():
            q.requires_grad_(True)
        # D: L(x) - k L(G(z)) on the same G(z), before D moves.
        opt_d.zero_grad(set_to_none=True)
        loss_real, loss_fake = L(real), L(fake.detach())
        loss_d = loss_real - state['k'] * loss_fake
        loss_d.backward()
        opt_d.step()
        lr_, lf_ = loss_real.item(), loss_fake.item()
        loss_d.item(), loss_g.item()
        state['k'] = min(1.0, max(0.0, state['k'] + 0.001 * (0.75 * lr_ - lf_)))
        state['M'] = lr_ + abs(0.75 * lr_ - lf_)

    time_steps(step, args.steps, args.warmup, b)


if __name__ == '__main__':
    main()
