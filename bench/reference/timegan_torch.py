"""TimeGAN's joint training step in PyTorch, for speed comparisons with ganforge's aten backend only.

The networks are those of src/models/nets/timegan_nets.ts: embedder E, recovery R, generator G and discriminator D
are `layers`-deep GRU stacks of `hidden` units, the supervisor S one layer fewer, each followed by a linear layer
at every step (sigmoid on E, R, G, S; D's logits linear). nn.GRU applies the reset gate after the recurrent product
(tfjs-layers' GRU before it): the same sizes and the same work per step.
The step is ganforge's jointPhase (src/models/timegan.ts): twice [G and S on BCE(D(H_hat), 1) + BCE(D(E_hat), 1)
+ 100 sqrt(L_S) + 100 L_moments, with E's latents of the batch as constants; then E and R on 10 sqrt(L_recon) +
0.1 L_S], each pair on a fresh batch and Z ~ U[0, 1); then D's loss on a third batch and Z, and D's update when
it is above 0.15. Five Adam optimizers with the defaults (lr 1e-3); losses read every update, as ours.
Run: /usr/bin/python3 bench/reference/timegan_torch.py --batch 128 --window 24 --features 5 --steps 5 --threads 2
Prints the parameter counts, then 'img/s=<n>' and 'cpu_img/s=<n>' (see twin_timing.py).
"""
import argparse
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from twin_timing import time_steps


class Stack(nn.Module):
    def __init__(self, in_dim, hidden, layers, out_dim, sigmoid):
        super().__init__()
        self.gru = nn.GRU(in_dim, hidden, num_layers=layers, batch_first=True)
        self.out = nn.Linear(hidden, out_dim)
        self.sigmoid = sigmoid

    def forward(self, x):
        y = self.out(self.gru(x)[0])
        return torch.sigmoid(y) if self.sigmoid else y


def supervised(h, hs):
    return F.mse_loss(hs[:, :-1], h[:, 1:])


def moments(x_hat, x):
    std = lambda t: torch.sqrt(t.var(0, unbiased=False) + 1e-6)
    return (std(x_hat) - std(x)).abs().mean() + (x_hat.mean(0) - x.mean(0)).abs().mean()


def bce(logits, target):
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--batch', type=int, default=128)
    p.add_argument('--window', type=int, default=24)
    p.add_argument('--features', type=int, default=5)
    p.add_argument('--hidden', type=int, default=24)
    p.add_argument('--layers', type=int, default=3)
    p.add_argument('--steps', type=int, default=5)
    p.add_argument('--warmup', type=int, default=2)
    p.add_argument('--threads', type=int, default=1)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    f, hd, L = a.features, a.hidden, a.layers
    E, R = Stack(f, hd, L, hd, True), Stack(hd, hd, L, f, True)
    G, S = Stack(f, hd, L, hd, True), Stack(hd, hd, max(1, L - 1), hd, True)
    D = Stack(hd, hd, L, 1, False)
    opt_g = torch.optim.Adam(list(G.parameters()) + list(S.parameters()), lr=1e-3)
    opt_e = torch.optim.Adam(list(E.parameters()) + list(R.parameters()), lr=1e-3)
    opt_d = torch.optim.Adam(D.parameters(), lr=1e-3)
    count = lambda *ms: sum(q.numel() for m in ms for q in m.parameters())
    print('params G=%d D=%d' % (count(G), count(D)))
    # TimeGAN's sines in [0, 1] (freq, phase ~ U[0, 0.1]), as --data sines.
    n = 1024
    freq, phase = torch.rand(n, 1, f) * 0.1, torch.rand(n, 1, f) * 0.1
    data = (torch.sin(freq * torch.arange(a.window).view(1, -1, 1) + phase) + 1) / 2

    def batch():
        return data[torch.randint(0, n, (a.batch,))], torch.rand(a.batch, a.window, f)

    def step():
        for _ in range(2):
            x, z = batch()
            with torch.no_grad():
                h = E(x)
            e_hat = G(z)
            h_hat = S(e_hat)
            adv = bce(D(h_hat), 1.0) + bce(D(e_hat), 1.0)
            l_s = supervised(h, S(h))
            l_v = moments(R(h_hat), x)
            loss_g = adv + 100 * torch.sqrt(l_s) + 100 * l_v
            opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
            opt_g.step()
            [adv.item(), l_s.item(), l_v.item(), loss_g.item()]
            h_e = E(x)
            loss_e = 10 * torch.sqrt(F.mse_loss(R(h_e), x)) + 0.1 * supervised(h_e, S(h_e))
            opt_e.zero_grad(set_to_none=True)
            loss_e.backward()
            opt_e.step()
            loss_e.item()
        x, z = batch()
        with torch.no_grad():
            e_hat = G(z)
            h, h_hat = E(x), S(e_hat)
            y_real = D(h)
            d_loss = bce(y_real, 1.0) + bce(D(h_hat), 0.0) + bce(D(e_hat), 0.0)
            [d_loss.item(), torch.sigmoid(y_real).mean().item()]
        if d_loss.item() > 0.15:
            loss_d = bce(D(h), 1.0) + bce(D(h_hat), 0.0) + bce(D(e_hat), 0.0)
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()
        assert math.isfinite(loss_g.item())

    time_steps(step, a.steps, a.warmup, a.batch)


if __name__ == '__main__':
    main()
