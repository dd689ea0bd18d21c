"""The DF-GAN training step in PyTorch, for speed comparisons with ganforge's aten backend only.

The networks are layer for layer those of src/models/nets/text_nets.ts (dfganGenerator, dfganDiscriminator):
  G: z -> Linear -> base x base x nf*8; n UPBlocks [nearest x2; shortcut (conv1x1 when the width changes) +
     DFBlock(affine, LeakyReLU 0.2, affine, LeakyReLU) - conv3 - DFBlock - conv3], each affine's gamma and beta from
     a Linear-ReLU-Linear MLP of [z, sentence]; LeakyReLU, conv3 to 3, tanh.
  D: conv3 to nf; n blocks [conv4 s2 (no bias), LeakyReLU, conv3 (no bias), LeakyReLU] added with learnt gamma
     (from 0) to the shortcut (conv1x1 when the width changes, avg-pool 2); head: sentence replicated over the base
     grid and concatenated, conv3 to nf*2 (no bias), LeakyReLU, a base x base conv (no bias) to one logit.
  Text encoder (frozen, run under no_grad): embedding -> bidirectional LSTM, sentence = the two directions' last
     hidden states (DAMSM's), on random captions of max_len tokens.
The step is ganforge's dfganStep: G forward once; D update on hinge(real, e) + (hinge(fake, e) + hinge(real, e
rolled by one)) / 2 + MA-GP 2 * E[(|grad_x|^2 + |grad_e|^2)^3] on (real, e), real features computed once; then G
on -D(G(z, e), e) under the updated D; Adam (1e-4 G, 4e-4 D, betas 0, 0.9); losses read every step.
Run: /usr/bin/python3 bench/reference/dfgan_torch.py --size 32 --batch 8 --steps 5 --threads 2
Prints the parameter counts, then 'img/s=<n>' and 'cpu_img/s=<n>' (see twin_timing.py).
"""
import argparse

import torch
import torch.nn as nn
import torch.nn.functional as F

from twin_timing import add_timing_args, parse_twin_args, time_steps


def base_grid(side):
    n = 0
    while side % 2 ** (n + 1) == 0 and side // 2 ** (n + 1) >= 4:
        n += 1
    return side // 2 ** n, n


def channels(nf, k):
    return nf * min(2 ** k, 8)


class Affine(nn.Module):
    def __init__(self, cond, c):
        super().__init__()
        self.gamma = nn.Sequential(nn.Linear(cond, c), nn.ReLU(), nn.Linear(c, c))
        self.beta = nn.Sequential(nn.Linear(cond, c), nn.ReLU(), nn.Linear(c, c))
        for mlp, bias in ((self.gamma, 1.0), (self.beta, 0.0)):
            nn.init.zeros_(mlp[2].weight)
            nn.init.constant_(mlp[2].bias, bias)

    def forward(self, x, y):
        return self.gamma(y)[:, :, None, None] * x + self.beta(y)[:, :, None, None]


class DFBlock(nn.Module):
    def __init__(self, cond, c):
        super().__init__()
        self.a0, self.a1 = Affine(cond, c), Affine(cond, c)

    def forward(self, x, y):
        return F.leaky_relu(self.a1(F.leaky_relu(self.a0(x, y), 0.2), y), 0.2)


class UpBlock(nn.Module):
    def __init__(self, cond, cin, cout):
        super().__init__()
        self.sc = nn.Conv2d(cin, cout, 1) if cin != cout else None
        self.f1, self.c1 = DFBlock(cond, cin), nn.Conv2d(cin, cout, 3, 1, 1)
        self.f2, self.c2 = DFBlock(cond, cout), nn.Conv2d(cout, cout, 3, 1, 1)

    def forward(self, x, y):
        x = F.interpolate(x, scale_factor=2)
        sc = self.sc(x) if self.sc is not None else x
        return sc + self.c2(self.f2(self.c1(self.f1(x, y)), y))


class NetG(nn.Module):
    def __init__(self, side, nz, text_dim, nf):
        super().__init__()
        self.base, n = base_grid(side)
        self.top = channels(nf, n)
        self.fc = nn.Linear(nz, self.base * self.base * self.top)
        self.blocks = nn.ModuleList([UpBlock(nz + text_dim, channels(nf, n - i), channels(nf, n - i - 1)) for i in range(n)])
        self.rgb = nn.Conv2d(nf, 3, 3, 1, 1)

    def forward(self, z, s):
        cond = torch.cat([z, s], 1)
        # ganforge's fc output is NHWC-reshaped; the layout differs, the work does not
        h = self.fc(z).view(-1, self.top, self.base, self.base)
        for block in self.blocks:
            h = block(h, cond)
        return torch.tanh(self.rgb(F.leaky_relu(h, 0.2)))


class DownBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.r = nn.Sequential(nn.Conv2d(cin, cout, 4, 2, 1, bias=False), nn.LeakyReLU(0.2), nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.LeakyReLU(0.2))
        self.sc = nn.Conv2d(cin, cout, 1) if cin != cout else None
        self.gamma = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        sc = self.sc(x) if self.sc is not None else x
        return F.avg_pool2d(sc, 2) + self.gamma * self.r(x)


class NetD(nn.Module):
    def __init__(self, side, nf):
        super().__init__()
        _, n = base_grid(side)
        self.img = nn.Conv2d(3, nf, 3, 1, 1)
        self.blocks = nn.Sequential(*[DownBlock(channels(nf, i), channels(nf, i + 1)) for i in range(n)])
        self.out_channels = channels(nf, n)

    def forward(self, x):
        return self.blocks(self.img(x))


class NetC(nn.Module):
    def __init__(self, side, nf, cin, text_dim):
        super().__init__()
        self.base, _ = base_grid(side)
        self.joint = nn.Sequential(nn.Conv2d(cin + text_dim, nf * 2, 3, 1, 1, bias=False), nn.LeakyReLU(0.2), nn.Conv2d(nf * 2, 1, self.base, 1, 0, bias=False))

    def forward(self, h, s):
        grid = s[:, :, None, None].expand(-1, -1, self.base, self.base)
        return self.joint(torch.cat([h, grid], 1)).view(-1, 1)


class TextEncoder(nn.Module):
    def __init__(self, vocab, word_dim, text_dim):
        super().__init__()
        self.embed = nn.Embedding(vocab, word_dim, padding_idx=0)
        self.lstm = nn.LSTM(word_dim, text_dim // 2, batch_first=True, bidirectional=True)

    def forward(self, tokens):
        _, (h, _) = self.lstm(self.embed(tokens))
        return torch.cat([h[0], h[1]], 1)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--size', type=int, default=32)
    p.add_argument('--batch', type=int, default=8)
    add_timing_args(p, steps=5, warmup=2)
    p.add_argument('--width', type=int, default=16)
    p.add_argument('--nz', type=int, default=100)
    p.add_argument('--word-dim', type=int, default=300)
    p.add_argument('--text-dim', type=int, default=256)
    p.add_argument('--max-len', type=int, default=12)
    p.add_argument('--vocab', type=int, default=40)
    args = parse_twin_args(p)
    G = NetG(args.size, args.nz, args.text_dim, args.width)
    D = NetD(args.size, args.width)
    C = NetC(args.size, args.width, D.out_channels, args.text_dim)
    enc = TextEncoder(args.vocab, args.word_dim, args.text_dim).eval()
    for q in enc.parameters():
        q.requires_grad_(False)
    print('params G=%d D=%d' % (sum(q.numel() for q in G.parameters()), sum(q.numel() for m in (D, C) for q in m.parameters())))
    opt_g = torch.optim.Adam(G.parameters(), 1e-4, betas=(0.0, 0.9))
    opt_d = torch.optim.Adam(list(D.parameters()) + list(C.parameters()), 4e-4, betas=(0.0, 0.9))
    imgs = torch.rand(args.batch, 3, args.size, args.size) * 2 - 1
    tokens = torch.randint(2, args.vocab, (args.batch, args.max_len))

    def step():
        with torch.no_grad():
            sent = enc(tokens)
        z = torch.randn(args.batch, args.nz)
        fake = G(z, sent)
        x = imgs.clone().requires_grad_(True)
        e = sent.clone().requires_grad_(True)
        h_real = D(x)
        pred_real = C(h_real, e)
        err_real = F.relu(1 - pred_real).mean()
        err_mis = F.relu(1 + C(h_real, torch.roll(e, -1, 0))).mean()
        err_fake = F.relu(1 + C(D(fake.detach()), e)).mean()
        gx, ge = torch.autograd.grad(pred_real.sum(), (x, e), create_graph=True)
        sq = gx.pow(2).flatten(1).sum(1) + ge.pow(2).sum(1)
        magp = 2.0 * sq.pow(3).mean()
        loss_d = err_real + (err_fake + err_mis) / 2 + magp
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        for q in list(D.parameters()) + list(C.parameters()):
            q.requires_grad_(False)
        loss_g = -C(D(fake), sent).mean()
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        for q in list(D.parameters()) + list(C.parameters()):
            q.requires_grad_(True)
        return loss_g.item(), loss_d.item()

    time_steps(step, args.steps, args.warmup, args.batch)


if __name__ == '__main__':
    main()
