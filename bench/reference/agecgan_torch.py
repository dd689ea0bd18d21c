"""The Age-cGAN training step in PyTorch, for speed comparisons with ganforge's aten backend only.

The networks are layer for layer those of src/models/agecgan.ts (G: dcgan's generator on [z, y]) and
src/models/nets/agecgan_nets.ts (conditionalDiscriminator, latentEncoder), for a side base * 2^n (base <= 8):
  G: [z, y] -> Linear -> base x base x w*2^(n-1), BN, ReLU; n-1 ConvTranspose 4x4 s2 halving the width, each BN,
     ReLU; ConvTranspose 4x4 s2 to the image channels, tanh.
  D: conv 4x4 s2 to w, LeakyReLU 0.2; the one-hot bin y joined as K constant maps; n-1 conv 4x4 s2 doubling the
     width, BN, LeakyReLU; flatten, Linear to one logit.
  E: n conv 4x4 s2 (w, 2w, ...), LeakyReLU each; flatten, Linear to 8w, LeakyReLU, Linear to z.
The step is ganforge's agecganStep (standardStep with labels, then encoderPhase): fake = G(z, y_fake) without a
tape; D update on softplus(-D(x, y_real)) + softplus(D(fake, y_fake)) (means); G forward again, G update on
softplus(-D(G(z, y_fake), y_fake)) under the updated D; then E on a fresh generated batch G(z', y') in eval mode,
min mean (z' - E(x'))^2. Adam (2e-4, betas 0.5, 0.999) for all three; losses read every step. D and G in train mode.
Run: /usr/bin/python3 bench/reference/agecgan_torch.py --size 28 --channels 1 --bins 5 --batch 64 --threads 2
Prints the parameter counts (D excludes E, as ganforge's), then 'img/s=<n>' and 'cpu_img/s=<n>' (see twin_timing.py).
"""
import argparse

import torch
import torch.nn as nn
import torch.nn.functional as F

from twin_timing import add_timing_args, parse_twin_args, time_steps, upsamplings


class NetG(nn.Module):
    def __init__(self, side, channels, nz, k, w):
        super().__init__()
        self.base, n = upsamplings(side)
        self.top = w * 2 ** (n - 1)
        self.fc = nn.Sequential(nn.Linear(nz + k, self.base * self.base * self.top), nn.BatchNorm1d(self.base * self.base * self.top), nn.ReLU())
        ups = []
        for level in range(n - 2, -1, -1):
            ups += [nn.ConvTranspose2d(w * 2 ** (level + 1), w * 2 ** level, 4, 2, 1), nn.BatchNorm2d(w * 2 ** level), nn.ReLU()]
        ups += [nn.ConvTranspose2d(w, channels, 4, 2, 1), nn.Tanh()]
        self.ups = nn.Sequential(*ups)

    def forward(self, z, y):
        # ganforge's dense output is NHWC-reshaped; the layout differs, the work does not
        return self.ups(self.fc(torch.cat([z, y], 1)).view(-1, self.top, self.base, self.base))


class NetD(nn.Module):
    def __init__(self, side, channels, k, w):
        super().__init__()
        self.base, n = upsamplings(side)
        self.conv0 = nn.Conv2d(channels, w, 4, 2, 1)
        body, cin = [], w + k
        for level in range(1, n):
            body += [nn.Conv2d(cin, w * 2 ** level, 4, 2, 1), nn.BatchNorm2d(w * 2 ** level), nn.LeakyReLU(0.2)]
            cin = w * 2 ** level
        self.body = nn.Sequential(*body)
        self.logit = nn.Linear(self.base * self.base * cin, 1)

    def forward(self, x, y):
        h = F.leaky_relu(self.conv0(x), 0.2)
        h = torch.cat([h, y[:, :, None, None].expand(-1, -1, h.shape[2], h.shape[3])], 1)
        return self.logit(self.body(h).flatten(1))


class NetE(nn.Module):
    def __init__(self, side, channels, nz, w):
        super().__init__()
        base, n = upsamplings(side)
        layers, cin = [], channels
        for level in range(n):
            layers += [nn.Conv2d(cin, w * 2 ** level, 4, 2, 1), nn.LeakyReLU(0.2)]
            cin = w * 2 ** level
        layers += [nn.Flatten(), nn.Linear(base * base * cin, w * 8), nn.LeakyReLU(0.2), nn.Linear(w * 8, nz)]
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--size', type=int, default=28)
    p.add_argument('--channels', type=int, default=1)
    p.add_argument('--bins', type=int, default=5)
    p.add_argument('--batch', type=int, default=64)
    add_timing_args(p, steps=5, warmup=2)
    p.add_argument('--width', type=int, default=32)
    p.add_argument('--nz', type=int, default=100)
    args = parse_twin_args(p)
    k, b = args.bins, args.batch
    G = NetG(args.size, args.channels, args.nz, k, args.width)
    D = NetD(args.size, args.channels, k, args.width)
    E = NetE(args.size, args.channels, args.nz, args.width)
    count = lambda m: sum(q.numel() for q in m.parameters())
    print('params G=%d D=%d E=%d' % (count(G), count(D), count(E)))
    adam = lambda m: torch.optim.Adam(m.parameters(), 2e-4, betas=(0.5, 0.999))
    opt_g, opt_d, opt_e = adam(G), adam(D), adam(E)
    imgs = torch.rand(b, args.channels, args.size, args.size) * 2 - 1
    labels = torch.randint(0, k, (b,))
    onehot = lambda i: F.one_hot(i, k).float()

    def step():
        z = torch.randn(b, args.nz)
        y_real, y_fake = onehot(labels), onehot(torch.randint(0, k, (b,)))
        # D phase: G's output is a constant
        with torch.no_grad():
            fake = G(z, y_fake)
        loss_d = F.softplus(-D(imgs, y_real)).mean() + F.softplus(D(fake, y_fake)).mean()
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        # G phase: G forward again, under the updated D; only G moves
        for q in D.parameters():
            q.requires_grad_(False)
        loss_g = F.softplus(-D(G(z, y_fake), y_fake)).mean()
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        for q in D.parameters():
            q.requires_grad_(True)
        # E phase: a fresh generated batch (G in inference mode), min mean (z - E(x))^2
        z_e, y_e = torch.randn(b, args.nz), onehot(torch.randint(0, k, (b,)))
        G.eval()
        with torch.no_grad():
            x_e = G(z_e, y_e)
        G.train()
        loss_e = (E(x_e) - z_e).pow(2).mean()
        opt_e.zero_grad(set_to_none=True)
        loss_e.backward()
        opt_e.step()
        return loss_g.item(), loss_d.item(), loss_e.item()

    time_steps(step, args.steps, args.warmup, args.batch)


if __name__ == '__main__':
    main()
