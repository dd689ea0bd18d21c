"""SRGAN and ESRGAN training steps in PyTorch, for speed comparisons with ganforge's aten backend only.

The networks are layer for layer those of src/models/nets/sr_nets.ts:
  srgan G (SRResNet, Ledig et al. 2017): conv9 + PReLU; B x [conv3 (no bias) - BN - PReLU - conv3 - BN, + x];
     conv3 - BN + the first conv's output; log2(s) x [conv3 to 4*width, pixel shuffle x2, PReLU]; conv9, tanh.
  esrgan G (RRDB, Wang et al. 2018): conv3; B x RRDB (3 dense blocks of 5 conv3 with `growth` channels,
     LeakyReLU 0.2, x + 0.2*conv5; x + 0.2*that); conv3 + the first conv's output; log2(s) x [nearest x2, conv3,
     LeakyReLU]; conv3, LeakyReLU, conv3.
  D (both): 4 stages of [conv3 s1, conv3 s2] with BN (except the first conv) and LeakyReLU 0.2, widths
     d_width*2^k; dense d_dense, LeakyReLU, dense 1.
  Content network: the shipped CIFAR-10 CNN's stages conv3 (no bias) - BN - ReLU - maxpool2 (32, 64, 128 channels)
     up to relu3 (srgan, maps x 1/12.75, MSE) or bn3 (esrgan, L1), frozen, in eval mode; random weights (speed only).
The step is ganforge's (src/models/srgan.ts, esrgan.ts through gan/step.ts's adversarialStep): G forward once; D
update on the non-saturating BCE (srgan) or the relativistic average BCE (esrgan) with G(x) a constant; then G
under the updated D: srgan content + 1e-3 * BCE(D(G(x)), 1); esrgan percep + 5e-3 * RaGAN_G + 1e-2 * L1; Adam
(1e-4, 0.9, 0.999 | 0.99) for both; losses read every step.
Run: /usr/bin/python3 bench/reference/sr_torch.py --family srgan --size 32 --scale 4 --batch 4 --steps 5 --threads 2
Prints the parameter counts, then 'img/s=<n>' and 'cpu_img/s=<n>' (see twin_timing.py).
"""
import argparse
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from twin_timing import add_timing_args, parse_twin_args, time_steps


class ResBlock(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(n, n, 3, 1, 1, bias=False), nn.BatchNorm2d(n), nn.PReLU(n),
                                  nn.Conv2d(n, n, 3, 1, 1, bias=False), nn.BatchNorm2d(n))

    def forward(self, x):
        return x + self.body(x)


class SRResNet(nn.Module):
    def __init__(self, c, n, blocks, scale):
        super().__init__()
        self.head = nn.Sequential(nn.Conv2d(c, n, 9, 1, 4), nn.PReLU(n))
        self.blocks = nn.Sequential(*[ResBlock(n) for _ in range(blocks)])
        self.trunk = nn.Sequential(nn.Conv2d(n, n, 3, 1, 1, bias=False), nn.BatchNorm2d(n))
        ups = []
        for _ in range(int(math.log2(scale))):
            ups += [nn.Conv2d(n, 4 * n, 3, 1, 1), nn.PixelShuffle(2), nn.PReLU(n)]
        self.up = nn.Sequential(*ups)
        self.tail = nn.Conv2d(n, c, 9, 1, 4)

    def forward(self, x):
        h = self.head(x)
        return torch.tanh(self.tail(self.up(h + self.trunk(self.blocks(h)))))


class DenseBlock(nn.Module):
    def __init__(self, n, g):
        super().__init__()
        self.convs = nn.ModuleList([nn.Conv2d(n + k * g, g if k < 4 else n, 3, 1, 1) for k in range(5)])

    def forward(self, x):
        feats = [x]
        for k, conv in enumerate(self.convs):
            h = conv(torch.cat(feats, 1))
            if k < 4:
                feats.append(F.leaky_relu(h, 0.2))
        return x + 0.2 * h


class RRDB(nn.Module):
    def __init__(self, n, g):
        super().__init__()
        self.body = nn.Sequential(DenseBlock(n, g), DenseBlock(n, g), DenseBlock(n, g))

    def forward(self, x):
        return x + 0.2 * self.body(x)


class RRDBNet(nn.Module):
    def __init__(self, c, n, blocks, growth, scale):
        super().__init__()
        self.head = nn.Conv2d(c, n, 3, 1, 1)
        self.blocks = nn.Sequential(*[RRDB(n, growth) for _ in range(blocks)])
        self.trunk = nn.Conv2d(n, n, 3, 1, 1)
        self.ups = nn.ModuleList([nn.Conv2d(n, n, 3, 1, 1) for _ in range(int(math.log2(scale)))])
        self.hr = nn.Conv2d(n, n, 3, 1, 1)
        self.tail = nn.Conv2d(n, c, 3, 1, 1)

    def forward(self, x):
        h = self.head(x)
        h = h + self.trunk(self.blocks(h))
        for conv in self.ups:
            h = F.leaky_relu(conv(F.interpolate(h, scale_factor=2, mode='nearest')), 0.2)
        return self.tail(F.leaky_relu(self.hr(h), 0.2))


def vgg_d(c, size, width, dense):
    layers, c_in, stages, side = [], c, 0, size
    while stages < 4 and side % 2 == 0:
        stages, side = stages + 1, side // 2
    for k in range(stages):
        w = width * 2 ** k
        for stride in (1, 2):
            first = k == 0 and stride == 1
            layers += [nn.Conv2d(c_in, w, 3, stride, 1, bias=first)] + ([] if first else [nn.BatchNorm2d(w)]) + [nn.LeakyReLU(0.2)]
            c_in = w
    layers += [nn.Flatten(), nn.Linear(c_in * side * side, dense), nn.LeakyReLU(0.2), nn.Linear(dense, 1)]
    return nn.Sequential(*layers)


def content_net(before_activation):
    layers, c_in = [], 3
    for i, w in enumerate((32, 64, 128)):
        layers += [nn.Conv2d(c_in, w, 3, 1, 1, bias=False), nn.BatchNorm2d(w)]
        if i == 2 and before_activation:
            break
        layers.append(nn.ReLU())
        if i < 2:
            layers.append(nn.MaxPool2d(2))
        c_in = w
    net = nn.Sequential(*layers).eval()
    for q in net.parameters():
        q.requires_grad_(False)
    return net


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--family', choices=['srgan', 'esrgan'], default='srgan')
    p.add_argument('--size', type=int, default=32)
    p.add_argument('--scale', type=int, default=4)
    p.add_argument('--batch', type=int, default=4)
    add_timing_args(p, steps=5, warmup=2)
    p.add_argument('--width', type=int, default=32)
    p.add_argument('--blocks', type=int, default=0)
    p.add_argument('--growth', type=int, default=16)
    p.add_argument('--d-width', type=int, default=16)
    p.add_argument('--d-dense', type=int, default=128)
    args = parse_twin_args(p)
    esr = args.family == 'esrgan'
    G = RRDBNet(3, args.width, args.blocks or 2, args.growth, args.scale) if esr else SRResNet(3, args.width, args.blocks or 4, args.scale)
    D = vgg_d(3, args.size, args.d_width, args.d_dense)
    phi = content_net(before_activation=esr)
    print('params G=%d D=%d' % (sum(q.numel() for q in G.parameters()), sum(q.numel() for q in D.parameters())))
    betas = (0.9, 0.99) if esr else (0.9, 0.999)
    opt_g = torch.optim.Adam(G.parameters(), 1e-4, betas=betas)
    opt_d = torch.optim.Adam(D.parameters(), 1e-4, betas=betas)
    small = args.size // args.scale
    x = torch.rand(args.batch, 3, small, small) * 2 - 1
    y = torch.rand(args.batch, 3, args.size, args.size) * 2 - 1
    sp = F.softplus

    def d_loss(r, f):
        if esr:
            return sp(-(r - f.mean())).mean() + sp(f - r.mean()).mean()
        return sp(-r).mean() + sp(f).mean()

    def g_adv(f, r):
        if esr:
            return sp(-(f - r.mean())).mean() + sp(r - f.mean()).mean()
        return sp(-f).mean()

    def step():
        fake = G(x)
        real_logits = D(y)
        loss_d = d_loss(real_logits, D(fake.detach()))
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        for q in D.parameters():
            q.requires_grad_(False)
        adv = g_adv(D(fake), real_logits.detach())
        if esr:
            loss_g = (phi(fake) - phi(y)).abs().mean() + 5e-3 * adv + 1e-2 * (fake - y).abs().mean()
        else:
            loss_g = ((phi(fake) - phi(y)) / 12.75).pow(2).mean() + 1e-3 * adv
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        for q in D.parameters():
            q.requires_grad_(True)
        return loss_g.item(), loss_d.item()

    time_steps(step, args.steps, args.warmup, args.batch)


if __name__ == '__main__':
    main()
