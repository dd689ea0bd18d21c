"""The RGAN training step in PyTorch, for speed comparisons with ganforge's aten backend only.

The networks are those of src/models/nets/recurrent_nets.ts (rganGenerator, rganDiscriminator):
  G: the latent sequence z [B, T, L] -> LSTM(hidden, sigmoid gates) -> the same Linear(hidden, F) at every step -> sigmoid.
  D: x [B, T, F] -> LSTM(hidden) -> Linear(hidden, 1) at every step -> logits [B, T].
The step is ganforge's standardStep for an unconditional family (src/gan/step.ts): with n_critic > 1, n_critic D
updates, each on a fresh real batch and fresh latents with G run forward without a graph, BCE on every step's logit
averaged over batch and time, then one G update on the first update's latents (non-saturating, mean over B x T);
with n_critic 1, G runs forward once and D is updated on its detached output before G's loss under the updated D
(adversarialStep). Adam on both players (lr 1e-3, betas 0.9, 0.999); the losses and D's mean sigmoid on real and
generated batches are read every D update, as ganforge's phases read them.
Run: /usr/bin/python3 bench/reference/rgan_torch.py --batch 28 --steps 20 --threads 2
Prints the parameter counts, then 'img/s=<n>' and 'cpu_img/s=<n>' (sequences per second; see twin_timing.py).
"""
import argparse

import torch
import torch.nn as nn
import torch.nn.functional as F

from twin_timing import add_timing_args, parse_twin_args, time_steps


class Generator(nn.Module):
    def __init__(self, latent, hidden, features):
        super().__init__()
        self.lstm = nn.LSTM(latent, hidden, batch_first=True)
        self.out = nn.Linear(hidden, features)

    def forward(self, z):
        h, _ = self.lstm(z)
        return torch.sigmoid(self.out(h))


class Discriminator(nn.Module):
    def __init__(self, features, hidden):
        super().__init__()
        self.lstm = nn.LSTM(features, hidden, batch_first=True)
        self.out = nn.Linear(hidden, 1)

    def forward(self, x):
        h, _ = self.lstm(x)
        return self.out(h).squeeze(-1)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--batch', type=int, default=28)
    p.add_argument('--window', type=int, default=24)
    p.add_argument('--features', type=int, default=5)
    p.add_argument('--latent', type=int, default=5, help='latent numbers per time step')
    p.add_argument('--hidden', type=int, default=100)
    p.add_argument('--n-critic', type=int, default=5)
    add_timing_args(p, steps=20, warmup=3)
    args = parse_twin_args(p)
    b, t = args.batch, args.window
    G = Generator(args.latent, args.hidden, args.features)
    D = Discriminator(args.features, args.hidden)
    print('params G=%d D=%d' % (sum(q.numel() for q in G.parameters()), sum(q.numel() for q in D.parameters())))
    opt_g = torch.optim.Adam(G.parameters(), lr=1e-3, betas=(0.9, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=1e-3, betas=(0.9, 0.999))
    data = torch.rand(512, t, args.features)

    def batch():
        return data[torch.randint(0, data.shape[0], (b,))]

    def latents():
        return torch.randn(b, t, args.latent)

    def d_update(real, fake):
        opt_d.zero_grad(set_to_none=True)
        lr, lf = D(real), D(fake)
        loss = F.softplus(-lr).mean() + F.softplus(lf).mean()
        loss.backward()
        opt_d.step()
        return loss.item(), torch.sigmoid(lr).mean().item(), torch.sigmoid(lf).mean().item()

    def g_update(fake):
        opt_g.zero_grad(set_to_none=True)
        loss = F.softplus(-D(fake)).mean()
        loss.backward()
        opt_g.step()
        return loss.item()

    def step():
        z = latents()
        if args.n_critic == 1:
            fake = G(z)
            d_update(batch(), fake.detach())
            g_update(fake)
            return
        for i in range(args.n_critic):
            with torch.no_grad():
                fake = G(z if i == 0 else latents())
            d_update(batch(), fake)
        g_update(G(z))

    time_steps(step, args.steps, args.warmup, b)


if __name__ == '__main__':
    main()
