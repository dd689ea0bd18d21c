"""The VAE/GAN training step in PyTorch, for speed comparisons with ganforge's aten backend only.

The networks are layer for layer those of src/models/vaegan.ts (width w, latent d, image side s = base * 2^n):
  Encoder: 3 x [conv5 stride 2 (w, 2w, 4w), BN, ReLU] -> Linear 32w, BN, ReLU -> Linear mu, Linear log sigma^2.
  Decoder: Linear base*base*4w, BN, ReLU -> the last n of [convT5 stride 2 to 4w, 2w, w/2, each BN, ReLU] -> conv5 to
           C -> tanh.
  D: conv5 w/2 (stride 1), ReLU; 3 x [conv5 stride 2 (2w, 4w, 4w), BN, ReLU]; Linear 8w, BN, ReLU; Linear 1.
  Dis_l is the output of D's l-th conv block (default 3).
The step is ganforge's vaeganStep: z = mu + sigma * eps computed once; the decoder runs forward once; D update on
softplus(-D(x)) + softplus(D([Dec(z); Dec(z_p)])) (fakes detached); decoder update on gamma * L_llike + softplus(-D([Dec(z); Dec(z_p)])) with z a constant; encoder
update on KL + L_llike, L_llike = 0.5 * sum (Dis_l(x) - Dis_l(Dec(z)))^2 / B with [x; Dec(z)] through D as one batch.
Networks that a phase does not move run with requires_grad off (no weight gradients), as tfjs computes gradients
for the phase's variables only. RMSProp (lr 3e-4, alpha 0.9, eps 1e-7: tfjs's); every loss read every step.
Run: /usr/bin/python3 bench/reference/vaegan_step.py --size 28 --batch 32 --width 32 --steps 5 --threads 2
Prints the parameter counts, then 'img/s=<n>' and 'cpu_img/s=<n>' (see twin_timing.py).
"""
import argparse

import torch
import torch.nn as nn
import torch.nn.functional as F

from twin_timing import add_timing_args, parse_twin_args, time_steps, upsamplings


def conv(cin, cout, stride):
    return nn.Conv2d(cin, cout, 5, stride, 2)


class Encoder(nn.Module):
    def __init__(self, channels, side, w, latent):
        super().__init__()
        layers, c = [], channels
        for f in (w, 2 * w, 4 * w):
            layers += [conv(c, f, 2), nn.BatchNorm2d(f, eps=1e-5, momentum=0.1), nn.ReLU()]
            c, side = f, (side + 1) // 2
        self.convs = nn.Sequential(*layers)
        self.fc = nn.Sequential(nn.Linear(c * side * side, 32 * w), nn.BatchNorm1d(32 * w), nn.ReLU())
        self.mu = nn.Linear(32 * w, latent)
        self.log_var = nn.Linear(32 * w, latent)

    def forward(self, x):
        h = self.fc(self.convs(x).flatten(1))
        return self.mu(h), self.log_var(h)


class Decoder(nn.Module):
    def __init__(self, channels, side, w, latent):
        super().__init__()
        self.base, n = upsamplings(side)
        self.w = w
        self.fc = nn.Sequential(nn.Linear(latent, self.base * self.base * 4 * w), nn.BatchNorm1d(self.base * self.base * 4 * w), nn.ReLU())
        layers, c = [], 4 * w
        for f in (4 * w, 2 * w, w // 2)[3 - n:]:
            layers += [nn.ConvTranspose2d(c, f, 5, 2, 2, output_padding=1), nn.BatchNorm2d(f), nn.ReLU()]
            c = f
        layers += [conv(c, channels, 1), nn.Tanh()]
        self.convs = nn.Sequential(*layers)

    def forward(self, z):
        return self.convs(self.fc(z).view(-1, 4 * self.w, self.base, self.base))


class Discriminator(nn.Module):
    def __init__(self, channels, side, w):
        super().__init__()
        self.blocks = nn.ModuleList([nn.Sequential(conv(channels, w // 2, 1), nn.ReLU())])
        c = w // 2
        for f in (2 * w, 4 * w, 4 * w):
            self.blocks.append(nn.Sequential(conv(c, f, 2), nn.BatchNorm2d(f), nn.ReLU()))
            c, side = f, (side + 1) // 2
        self.head = nn.Sequential(nn.Linear(c * side * side, 8 * w), nn.BatchNorm1d(8 * w), nn.ReLU(), nn.Linear(8 * w, 1))

    def features(self, x, layer):
        for block in self.blocks[:layer]:
            x = block(x)
        return x

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return self.head(x.flatten(1))


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--size', type=int, default=28)
    p.add_argument('--channels', type=int, default=1)
    p.add_argument('--batch', type=int, default=32)
    p.add_argument('--width', type=int, default=32)
    p.add_argument('--latent', type=int, default=128)
    p.add_argument('--layer', type=int, default=3)
    p.add_argument('--gamma', type=float, default=1e-6)
    add_timing_args(p, steps=5, warmup=2)
    args = parse_twin_args(p)
    b, s, c = args.batch, args.size, args.channels
    E = Encoder(c, s, args.width, args.latent)
    G = Decoder(c, s, args.width, args.latent)
    D = Discriminator(c, s, args.width)
    count = lambda m: sum(q.numel() for q in m.parameters())
    print('params G=%d D=%d E=%d' % (count(G), count(D), count(E)))
    rms = lambda m: torch.optim.RMSprop(m.parameters(), lr=3e-4, alpha=0.9, eps=1e-7)
    opt_e, opt_g, opt_d = rms(E), rms(G), rms(D)
    data = torch.rand(256, c, s, s) * 2 - 1

    def frozen(*nets):
        for net in (E, G, D):
            net.requires_grad_(net not in nets)

    def llike(x, x_tilde):
        f = D.features(torch.cat([x, x_tilde]), args.layer)
        fx, ft = f.chunk(2)
        return 0.5 * (fx - ft).pow(2).sum() / x.shape[0]

    def step():
        x = data[torch.randint(0, data.shape[0], (b,))]
        eps, zp = torch.randn(b, args.latent), torch.randn(b, args.latent)
        # z ~ q(z|x) once, a constant to D and the decoder; the decoder runs forward once for both updates.
        with torch.no_grad():
            mu, log_var = E(x)
            z = mu + torch.exp(0.5 * log_var) * eps
        frozen(E, D)
        x_tilde, xp = G(z), G(zp)
        fake = torch.cat([x_tilde, xp])
        # D: x real, [Dec(z); Dec(z_p)] fake (detached).
        frozen(E, G)
        opt_d.zero_grad(set_to_none=True)
        lr, lf = D(x), D(fake.detach())
        loss_d = F.softplus(-lr).mean() + F.softplus(lf).mean()
        loss_d.backward()
        opt_d.step()
        loss_d.item(), torch.sigmoid(lr).mean().item(), torch.sigmoid(lf).mean().item()
        # Decoder: gamma * L_llike - L_GAN (non-saturating) under the updated D.
        frozen(E, D)
        opt_g.zero_grad(set_to_none=True)
        ll = llike(x, x_tilde)
        loss_g = args.gamma * ll + F.softplus(-D(fake)).mean()
        loss_g.backward()
        opt_g.step()
        # Encoder: KL + L_llike through the (updated) decoder and D.
        frozen(G, D)
        opt_e.zero_grad(set_to_none=True)
        mu, log_var = E(x)
        z = mu + torch.exp(0.5 * log_var) * eps
        kl = 0.5 * (mu.pow(2) + log_var.exp() - log_var - 1).sum(1).mean()
        ll_e = llike(x, G(z))
        loss_e = kl + ll_e
        loss_e.backward()
        opt_e.step()
        loss_g.item(), loss_e.item(), kl.item(), ll_e.item(), ll.item()

    time_steps(step, args.steps, args.warmup, b)


if __name__ == '__main__':
    main()
