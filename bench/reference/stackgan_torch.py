"""The StackGAN training step (both stages jointly, ganforge's default --stage both) in PyTorch, for speed
comparisons with ganforge's aten backend only.

The networks are layer for layer those of src/models/nets/text_nets.ts (stackganGenerator, stackganDiscriminator)
for a side of 32 or more (stage I at half the side, a quarter from 64 px; w = --width):
  CA (per stage): mu = Linear(sentence), log sigma^2 = Linear(sentence), c = mu + exp(log sigma^2 / 2) * eps.
  stage I: [z_G, c1] -> Linear (no bias) -> base x base x 8w, BN, ReLU; up-blocks [nearest x2, conv3 (no bias),
     BN, ReLU] halving the width; conv3 to the channels, tanh.
  stage II (width 2w): image1 -> conv3, ReLU; stride-2 conv4 (no bias), BN, ReLU (twice when stage I's side / 4 is
     at least its base grid); c2 replicated and joined, conv3 (no bias), BN, ReLU; res blocks [conv3, BN, ReLU,
     conv3, BN, + x, ReLU]; up-blocks to the side, halving the width; conv3 to the channels, tanh.
  D (per stage): features = conv4 s2 (bias, no norm), LeakyReLU 0.2, then conv4 s2 (no bias), BN, LeakyReLU down
     to the base grid (widths w*min(2^k, 8)); head = mu replicated and joined, conv3 (no bias), BN, LeakyReLU,
     a base x base conv (bias) to one logit.
  Text encoder (frozen, under no_grad): dfgan_torch's embedding + bidirectional LSTM, on captions of max_len tokens.
The step is ganforge's stackganStep: z = [z_G, eps1, eps2]; G forward once (both stages, train mode); one D update
of both stages' matching-aware losses softplus(-D(x, mu)) + (softplus(D(x, mu rolled by one)) + softplus(D(G, mu)))
/ 2 (real features computed once per stage, stage I's real batch the 2x2 average pool); then G on sum over stages
of softplus(-D(G, mu)) + KL(N(mu, sigma^2) || N(0, I)) averaged over dimensions, under the updated Ds; Adam
(2e-4, betas 0.5, 0.999) for both; losses read every step.
Run: /usr/bin/python3 bench/reference/stackgan_torch.py --size 32 --batch 16 --width 32 --threads 2
Prints the parameter counts (D = both stages'), then 'img/s=<n>' and 'cpu_img/s=<n>' (see twin_timing.py).
"""
import argparse

import torch
import torch.nn as nn
import torch.nn.functional as F

from dfgan_torch import TextEncoder, base_grid
from twin_timing import add_timing_args, parse_twin_args, time_steps


def stage_one_side(side):
    return side // 4 if side >= 64 else side // 2


class CA(nn.Module):
    def __init__(self, text_dim, c_dim):
        super().__init__()
        self.mu, self.logvar = nn.Linear(text_dim, c_dim), nn.Linear(text_dim, c_dim)

    def forward(self, s, eps):
        mu, logvar = self.mu(s), self.logvar(s)
        return mu + torch.exp(0.5 * logvar) * eps, mu, logvar


def up_block(cin, cout):
    return nn.Sequential(nn.Upsample(scale_factor=2, mode='nearest'), nn.Conv2d(cin, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU())


def grid_of(c, side):
    return c[:, :, None, None].expand(-1, -1, side, side)


class StageOne(nn.Module):
    def __init__(self, side1, channels, nz_g, text_dim, c_dim, w):
        super().__init__()
        self.base, n = base_grid(side1)
        self.top = w * 8
        self.ca = CA(text_dim, c_dim)
        self.fc = nn.Sequential(nn.Linear(nz_g + c_dim, self.base * self.base * self.top, bias=False), nn.BatchNorm1d(self.base * self.base * self.top), nn.ReLU())
        self.ups = nn.Sequential(*[up_block(max(1, self.top // 2 ** i), max(1, self.top // 2 ** (i + 1))) for i in range(n)])
        self.rgb = nn.Conv2d(max(1, self.top // 2 ** n), channels, 3, 1, 1)

    def forward(self, z, s, eps):
        c, mu, logvar = self.ca(s, eps)
        # ganforge's fc output is NHWC-reshaped; the layout differs, the work does not
        h = self.fc(torch.cat([z, c], 1)).view(-1, self.top, self.base, self.base)
        return torch.tanh(self.rgb(self.ups(h))), mu, logvar


class ResBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.r = nn.Sequential(nn.Conv2d(c, c, 3, 1, 1, bias=False), nn.BatchNorm2d(c), nn.ReLU(), nn.Conv2d(c, c, 3, 1, 1, bias=False), nn.BatchNorm2d(c))

    def forward(self, x):
        return F.relu(x + self.r(x))


class StageTwo(nn.Module):
    def __init__(self, side, channels, text_dim, c_dim, w, res_blocks):
        super().__init__()
        side1 = stage_one_side(side)
        downs = 2 if side1 // 4 >= base_grid(side1)[0] else 1
        self.grid = side1 // 2 ** downs
        ups = (side // self.grid).bit_length() - 1
        w2 = w * 2
        self.ca = CA(text_dim, c_dim)
        enc = [nn.Conv2d(channels, w2, 3, 1, 1), nn.ReLU()]
        for i in range(downs):
            enc += [nn.Conv2d(w2 * 2 ** i, w2 * 2 ** (i + 1), 4, 2, 1, bias=False), nn.BatchNorm2d(w2 * 2 ** (i + 1)), nn.ReLU()]
        self.enc = nn.Sequential(*enc)
        joint = w2 * 2 ** downs
        self.joint = nn.Sequential(nn.Conv2d(joint + c_dim, joint, 3, 1, 1, bias=False), nn.BatchNorm2d(joint), nn.ReLU())
        self.res = nn.Sequential(*[ResBlock(joint) for _ in range(res_blocks)])
        self.ups = nn.Sequential(*[up_block(max(1, joint // 2 ** i), max(1, joint // 2 ** (i + 1))) for i in range(ups)])
        self.rgb = nn.Conv2d(max(1, joint // 2 ** ups), channels, 3, 1, 1)

    def forward(self, image1, s, eps):
        c, mu, logvar = self.ca(s, eps)
        h = self.joint(torch.cat([self.enc(image1), grid_of(c, self.grid)], 1))
        return torch.tanh(self.rgb(self.ups(self.res(h)))), mu, logvar


class NetD(nn.Module):
    def __init__(self, side, channels, c_dim, w):
        super().__init__()
        self.base, n = base_grid(side)
        ch = lambda k: w * min(2 ** k, 8)
        layers, cin = [], channels
        for i in range(n):
            layers += [nn.Conv2d(cin, ch(i), 4, 2, 1, bias=i == 0)] + ([] if i == 0 else [nn.BatchNorm2d(ch(i))]) + [nn.LeakyReLU(0.2)]
            cin = ch(i)
        self.features = nn.Sequential(*layers)
        out = ch(max(0, n - 1))
        self.head = nn.Sequential(nn.Conv2d(cin + c_dim, out, 3, 1, 1, bias=False), nn.BatchNorm2d(out), nn.LeakyReLU(0.2), nn.Conv2d(out, 1, self.base, 1, 0))

    def score(self, h, c):
        return self.head(torch.cat([h, grid_of(c, self.base)], 1)).view(-1, 1)


def matching_aware(d, real, image, mu):
    h_real = d.features(real)
    l_real, l_mis = d.score(h_real, mu), d.score(h_real, torch.roll(mu, -1, 0))
    l_fake = d.score(d.features(image), mu)
    return F.softplus(-l_real).mean() + 0.5 * (F.softplus(l_mis).mean() + F.softplus(l_fake).mean())


def kl(mu, logvar):
    return 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).mean()


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--size', type=int, default=32)
    p.add_argument('--channels', type=int, default=3)
    p.add_argument('--batch', type=int, default=16)
    add_timing_args(p, steps=5, warmup=2)
    p.add_argument('--width', type=int, default=32)
    p.add_argument('--nz', type=int, default=100, help="G's own noise (the latent is nz + 2 * c_dim)")
    p.add_argument('--c-dim', type=int, default=128)
    p.add_argument('--res-blocks', type=int, default=4)
    p.add_argument('--word-dim', type=int, default=300)
    p.add_argument('--text-dim', type=int, default=256)
    p.add_argument('--max-len', type=int, default=12)
    p.add_argument('--vocab', type=int, default=40)
    args = parse_twin_args(p)
    side, side1, b = args.size, stage_one_side(args.size), args.batch
    g1 = StageOne(side1, args.channels, args.nz, args.text_dim, args.c_dim, args.width)
    g2 = StageTwo(side, args.channels, args.text_dim, args.c_dim, args.width, args.res_blocks)
    d1 = NetD(side1, args.channels, args.c_dim, args.width)
    d2 = NetD(side, args.channels, args.c_dim, args.width)
    enc = TextEncoder(args.vocab, args.word_dim, args.text_dim).eval()
    for q in enc.parameters():
        q.requires_grad_(False)
    g_params, d_params = list(g1.parameters()) + list(g2.parameters()), list(d1.parameters()) + list(d2.parameters())
    print('params G=%d D=%d' % (sum(q.numel() for q in g_params), sum(q.numel() for q in d_params)))
    opt_g = torch.optim.Adam(g_params, 2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d_params, 2e-4, betas=(0.5, 0.999))
    imgs = torch.rand(b, args.channels, side, side) * 2 - 1
    tokens = torch.randint(2, args.vocab, (b, args.max_len))

    def step():
        with torch.no_grad():
            sent = enc(tokens)
        z_g, eps1, eps2 = torch.randn(b, args.nz), torch.randn(b, args.c_dim), torch.randn(b, args.c_dim)
        real1 = F.avg_pool2d(imgs, side // side1)
        # G forward once: both stages
        image1, mu1, lv1 = g1(z_g, sent, eps1)
        image2, mu2, lv2 = g2(image1, sent, eps2)
        games = [(d1, real1, image1, mu1, lv1), (d2, imgs, image2, mu2, lv2)]
        # D step: both stages' matching-aware losses, one update; G's outputs are constants
        loss_d = sum(matching_aware(d, real, image.detach(), mu.detach()) for d, real, image, mu, _ in games)
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        # G step under the updated Ds: adversarial + KL per stage; only G moves
        for q in d_params:
            q.requires_grad_(False)
        loss_g = sum(F.softplus(-d.score(d.features(image), mu)).mean() + kl(mu, lv) for d, _, image, mu, lv in games)
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        for q in d_params:
            q.requires_grad_(True)
        return loss_g.item(), loss_d.item()

    time_steps(step, args.steps, args.warmup, args.batch)


if __name__ == '__main__':
    main()
