"""The EBGAN training step in PyTorch, for speed comparisons with ganforge's aten backend only.

The networks are those of src/models/ebgan.ts on images of side base * 2^n (28 = 7 * 2^2, 32 = 8 * 2^2):
  G: DCGAN's (src/models/dcgan.ts): Linear(z, base^2 * width * 2^(n-1)) -> BN -> ReLU -> reshape -> (n - 1) x
     [ConvTranspose 4x4 s2 -> BN -> ReLU], halving the channels -> ConvTranspose 4x4 s2 to C -> tanh.
  D: an autoencoder: n x [Conv 4x4 s2 -> BN (not on the first) -> LeakyReLU 0.2] (the code: the last feature map,
     flattened), then (n - 1) x [ConvTranspose 4x4 s2 -> BN -> LeakyReLU 0.2] -> ConvTranspose 4x4 s2 to C -> tanh.
The step is ganforge's ebganStep: G runs forward once; D is updated on the detached G(z) with
  mean E(x) + mean max(0, m - E(G(z))),  E(v) = per-example mean of (D(v) - v)^2,
then G on the same G(z) under the updated D with mean E(G(z)) + 0.1 * pull-away(codes of G(z)) (D's parameters
frozen meanwhile). Adam (2e-4, betas 0.5, 0.999) on both; D's loss, both mean energies and the pull-away term are
read every step, as ganforge's step reads them.
Run: /usr/bin/python3 bench/reference/ebgan_torch.py --size 28 --batch 64 --steps 10 --threads 2
Prints the parameter counts, then 'img/s=<n>' and 'cpu_img/s=<n>' (see twin_timing.py).
"""
import argparse

import torch
import torch.nn as nn
import torch.nn.functional as F

from twin_timing import add_timing_args, parse_twin_args, time_steps, upsamplings


class Generator(nn.Module):
    def __init__(self, latent, base, n, channels, width):
        super().__init__()
        top = width * 2 ** (n - 1)
        self.base, self.top = base, top
        self.fc = nn.Linear(latent, base * base * top)
        self.bn = nn.BatchNorm1d(base * base * top)
        layers = []
        for level in range(n - 2, -1, -1):
            layers += [nn.ConvTranspose2d(width * 2 ** (level + 1), width * 2 ** level, 4, 2, 1), nn.BatchNorm2d(width * 2 ** level), nn.ReLU()]
        layers += [nn.ConvTranspose2d(width, channels, 4, 2, 1), nn.Tanh()]
        self.up = nn.Sequential(*layers)

    def forward(self, z):
        h = F.relu(self.bn(self.fc(z))).view(-1, self.base, self.base, self.top).permute(0, 3, 1, 2)
        return self.up(h)


class Autoencoder(nn.Module):
    def __init__(self, n, channels, width):
        super().__init__()
        enc, c = [], channels
        for level in range(n):
            enc.append(nn.Conv2d(c, width * 2 ** level, 4, 2, 1))
            if level > 0:
                enc.append(nn.BatchNorm2d(width * 2 ** level))
            enc.append(nn.LeakyReLU(0.2))
            c = width * 2 ** level
        dec = []
        for level in range(n - 2, -1, -1):
            dec += [nn.ConvTranspose2d(width * 2 ** (level + 1), width * 2 ** level, 4, 2, 1), nn.BatchNorm2d(width * 2 ** level), nn.LeakyReLU(0.2)]
        dec += [nn.ConvTranspose2d(width, channels, 4, 2, 1), nn.Tanh()]
        self.enc, self.dec = nn.Sequential(*enc), nn.Sequential(*dec)

    def forward(self, x):
        h = self.enc(x)
        return self.dec(h), h.flatten(1)


def energy(x, x_hat):
    return (x_hat - x).pow(2).flatten(1).mean(1)


def pull_away(codes):
    n = codes.shape[0]
    unit = codes / (codes.pow(2).sum(1, keepdim=True).sqrt() + 1e-8)
    cos = unit @ unit.t()
    diagonal = unit.pow(2).sum(1).pow(2).sum()
    return (cos.pow(2).sum() - diagonal) / (n * (n - 1))


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--size', type=int, default=28)
    p.add_argument('--channels', type=int, default=1)
    p.add_argument('--batch', type=int, default=64)
    p.add_argument('--width', type=int, default=64)
    p.add_argument('--latent', type=int, default=100)
    p.add_argument('--margin', type=float, default=0.3)  # ebgan's default (src/models/ebgan.ts)
    p.add_argument('--pt-weight', type=float, default=0.1)
    add_timing_args(p, steps=10, warmup=2)
    args = parse_twin_args(p)
    base, n = upsamplings(args.size)
    G = Generator(args.latent, base, n, args.channels, args.width)
    D = Autoencoder(n, args.channels, args.width)
    print('params G=%d D=%d' % (sum(q.numel() for q in G.parameters()), sum(q.numel() for q in D.parameters())))
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    data = torch.rand(256, args.channels, args.size, args.size) * 2 - 1
    b = args.batch

    def step():
        real = data[torch.randint(0, data.shape[0], (b,))]
        fake = G(torch.randn(b, args.latent))
        # D: energy of data down, energy of G(z) up to the margin.
        opt_d.zero_grad(set_to_none=True)
        e_real = energy(real, D(real)[0])
        fake_d = fake.detach()
        e_fake = energy(fake_d, D(fake_d)[0])
        loss_d = e_real.mean() + F.relu(args.margin - e_fake).mean()
        loss_d.backward()
        opt_d.step()
        # G: its energy under the updated D, plus the pull-away term on D's codes.
        for q in D.parameters():
            q.requires_grad_(False)
        opt_g.zero_grad(set_to_none=True)
        x_hat, code = D(fake)
        pt = pull_away(code)
        loss_g = energy(fake, x_hat).mean() + args.pt_weight * pt
        loss_g.backward()
        opt_g.step()
        for q in D.parameters():
            q.requires_grad_(True)
        loss_d.item(), loss_g.item(), e_real.mean().item(), e_fake.mean().item(), pt.item()

    time_steps(step, args.steps, args.warmup, b)


if __name__ == '__main__':
    main()
