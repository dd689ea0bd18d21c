"""BigGAN training step in PyTorch, for speed comparisons with ganforge's aten backend only.

The networks are layer for layer those of src/models/nets/biggan_nets.ts (Brock et al. 2019, at the widths of
BigGAN-PyTorch's 32 px CIFAR architecture), every weight spectrally normalised with one power iteration per
training forward (torch.nn.utils.spectral_norm, as src/nn/spectral_norm.ts), except the shared class embedding:
  G: z (dim 128) split into 4 chunks; chunk 0 -> SN linear -> 4x4x(4ch); 3 "ResBlock up" blocks of 4ch, each
     CBN(x, [chunk_i, E(y)]) -> ReLU -> nearest 2x -> SN conv 3x3 -> CBN -> ReLU -> SN conv 3x3, skip SN conv 1x1
     then nearest 2x (ganforge's order: the 1x1 conv before upsampling); CBN gains 1 + SN linear(c), biases
     SN linear(c), no bias, on batch statistics (eps 1e-5, momentum 0.1); then BN, ReLU, SN conv 3x3 to 3, tanh.
  D: 4 "ResBlock down" blocks of 4ch (the first without its leading ReLU; the last two keep the size), main
     path ReLU -> SN conv 3x3 -> ReLU -> SN conv 3x3 -> avg-pool 2, skip avg-pool then SN conv 1x1; ReLU, sum
     over positions, SN linear + <SN embedding(y), h> (projection).
  --attention R adds SAGAN's self-attention (2x2 max-pooled keys and values) after G's and D's block at R px.
The step is ganforge's biggan step (src/models/biggan.ts): n_D times { G(z, y') under no_grad in training mode;
D on the real batch and on the generated one (two calls, two power iterations), hinge loss, Adam step }, then G
on the first D update's z and y', D's weights frozen, loss -mean D(G(z, y'), y'), Adam step; then the EMA of G
(a copy before its start step, as ganforge's gEmaStart of 1000); every loss read per update. Adam(2e-4, 0, 0.999,
eps 1e-7 as TF.js's) for both players.
Run: /usr/bin/python3 bench/reference/biggan_torch.py --batch 50 --width 64 --ndis 4 --steps 3 --threads 2
Prints the parameter counts, then 'img/s=<n> cpu_img/s=<n>' over --steps timed steps after a warm-up (one image
is one example of the batch per step) and 'ms/step=<n>'.
"""
import argparse
import copy
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

SN = lambda m: nn.utils.spectral_norm(m, eps=1e-12)


def up2(x):
    return F.interpolate(x, scale_factor=2, mode='nearest')


class CBN(nn.Module):
    def __init__(self, channels, cond):
        super().__init__()
        self.gain, self.bias = SN(nn.Linear(cond, channels, bias=False)), SN(nn.Linear(cond, channels, bias=False))
        self.register_buffer('mean', torch.zeros(channels))
        self.register_buffer('var', torch.ones(channels))

    def forward(self, x, c):
        h = F.batch_norm(x, self.mean, self.var, None, None, self.training, 0.1, 1e-5)
        return h * (1 + self.gain(c))[:, :, None, None] + self.bias(c)[:, :, None, None]


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        conv = lambda i, o: SN(nn.Conv2d(i, o, 1, bias=False))
        self.theta, self.phi, self.g, self.o = conv(c, c // 8), conv(c, c // 8), conv(c, c // 2), conv(c // 2, c)
        self.gamma = nn.Parameter(torch.zeros(()))

    def forward(self, x):
        b, c, h, w = x.shape
        theta = self.theta(x).view(b, c // 8, h * w)
        phi = F.max_pool2d(self.phi(x), 2).view(b, c // 8, h * w // 4)
        g = F.max_pool2d(self.g(x), 2).view(b, c // 2, h * w // 4)
        beta = F.softmax(torch.bmm(theta.transpose(1, 2), phi), -1)  # [B, N, M]
        o = self.o(torch.bmm(g, beta.transpose(1, 2)).view(b, c // 2, h, w))
        return x + self.gamma * o


class GBlock(nn.Module):
    def __init__(self, c_in, c_out, cond):
        super().__init__()
        self.bn1, self.bn2 = CBN(c_in, cond), CBN(c_out, cond)
        self.conv1, self.conv2 = SN(nn.Conv2d(c_in, c_out, 3, padding=1)), SN(nn.Conv2d(c_out, c_out, 3, padding=1))
        self.skip = SN(nn.Conv2d(c_in, c_out, 1))

    def forward(self, x, c):
        h = self.conv1(up2(F.relu(self.bn1(x, c))))
        h = self.conv2(F.relu(self.bn2(h, c)))
        return h + up2(self.skip(x))


class Generator(nn.Module):
    def __init__(self, ch, z_dim, classes, attention, blocks=3, embed=128):
        super().__init__()
        self.chunk = z_dim // (blocks + 1)
        self.embed = nn.Embedding(classes, embed)
        self.linear = SN(nn.Linear(self.chunk, 4 * 4 * 4 * ch))
        self.blocks = nn.ModuleList([GBlock(4 * ch, 4 * ch, self.chunk + embed) for _ in range(blocks)])
        self.attn_after = [i for i in range(blocks) if 8 * 2 ** i == attention]
        self.attn = Attention(4 * ch) if self.attn_after else None
        self.out_bn = nn.BatchNorm2d(4 * ch, eps=1e-5, momentum=0.1)
        self.out_conv = SN(nn.Conv2d(4 * ch, 3, 3, padding=1))
        self.ch = ch

    def forward(self, z, y):
        zs = torch.split(z, self.chunk, 1)
        e = self.embed(y)
        h = self.linear(zs[0]).view(-1, 4 * self.ch, 4, 4)
        for i, block in enumerate(self.blocks):
            h = block(h, torch.cat([zs[i + 1], e], 1))
            if i in self.attn_after:
                h = self.attn(h)
        return torch.tanh(self.out_conv(F.relu(self.out_bn(h))))


class DBlock(nn.Module):
    def __init__(self, c_in, c_out, down, preact):
        super().__init__()
        self.conv1, self.conv2 = SN(nn.Conv2d(c_in, c_out, 3, padding=1)), SN(nn.Conv2d(c_out, c_out, 3, padding=1))
        self.skip = SN(nn.Conv2d(c_in, c_out, 1)) if down or c_in != c_out else None
        self.down, self.preact = down, preact

    def forward(self, x):
        h = F.relu(x) if self.preact else x
        h = self.conv2(F.relu(self.conv1(h)))
        s = x
        if self.down:
            h, s = F.avg_pool2d(h, 2), F.avg_pool2d(s, 2)
        return h + (self.skip(s) if self.skip is not None else s)


class Discriminator(nn.Module):
    def __init__(self, ch, classes, attention):
        super().__init__()
        downs = [True, True, False, False]
        self.blocks = nn.ModuleList([DBlock(3 if i == 0 else 4 * ch, 4 * ch, d, i > 0) for i, d in enumerate(downs)])
        sizes = [16, 8, 8, 8]
        self.attn_after = sizes.index(attention) if attention in sizes else -1
        self.attn = Attention(4 * ch) if self.attn_after >= 0 else None
        self.linear = SN(nn.Linear(4 * ch, 1))
        self.embed = SN(nn.Embedding(classes, 4 * ch))

    def forward(self, x, y):
        h = x
        for i, block in enumerate(self.blocks):
            h = block(h)
            if i == self.attn_after:
                h = self.attn(h)
        h = torch.sum(F.relu(h), [2, 3])
        return self.linear(h) + torch.sum(self.embed(y) * h, 1, keepdim=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--batch', type=int, default=50)
    p.add_argument('--width', type=int, default=64)
    p.add_argument('--latent', type=int, default=128)
    p.add_argument('--classes', type=int, default=10)
    p.add_argument('--attention', type=int, default=0)
    p.add_argument('--ndis', type=int, default=4)
    p.add_argument('--steps', type=int, default=3)
    p.add_argument('--warmup', type=int, default=1)
    p.add_argument('--threads', type=int, default=0)
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    G = Generator(args.width, args.latent, args.classes, args.attention)
    D = Discriminator(args.width, args.classes, args.attention)
    G_ema = copy.deepcopy(G)
    for q in G_ema.parameters():
        q.requires_grad_(False)
    count = lambda m: sum(q.numel() for q in m.parameters())
    print('params G=%d D=%d' % (count(G), count(D)))
    opt_g = torch.optim.Adam(G.parameters(), 2e-4, betas=(0.0, 0.999), eps=1e-7)
    opt_d = torch.optim.Adam(D.parameters(), 2e-4, betas=(0.0, 0.999), eps=1e-7)
    B = args.batch
    images = torch.rand(4 * B, 3, 32, 32) * 2 - 1
    labels = torch.randint(0, args.classes, (4 * B,))
    state = {'batch': 0, 'itr': 0}

    def real_batch():
        i = state['batch'] % 4
        state['batch'] += 1
        return images[i * B:(i + 1) * B], labels[i * B:(i + 1) * B]

    def d_update(z, y_fake):
        x, y = real_batch()
        with torch.no_grad():
            fake = G(z, y_fake)
        real_logits, fake_logits = D(x, y), D(fake, y_fake)
        loss = F.relu(1 - real_logits).mean() + F.relu(1 + fake_logits).mean()
        opt_d.zero_grad(set_to_none=True)
        loss.backward()
        opt_d.step()
        return loss.item()

    def step():
        z0, y0 = torch.randn(B, args.latent), torch.randint(0, args.classes, (B,))
        for i in range(args.ndis):
            z, y = (z0, y0) if i == 0 else (torch.randn(B, args.latent), torch.randint(0, args.classes, (B,)))
            d_update(z, y)
        for q in D.parameters():  # D's weight gradients are not needed for G's update (TF.js prunes them too)
            q.requires_grad_(False)
        loss_g = -D(G(z0, y0), y0).mean()
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        for q in D.parameters():
            q.requires_grad_(True)
        loss_g.item()
        state['itr'] += 1
        decay = 0.0 if state['itr'] < 1000 else 0.9999
        with torch.no_grad():
            for e, g in zip(G_ema.state_dict().values(), G.state_dict().values()):
                e.copy_(e * decay + g * (1 - decay)) if e.dtype.is_floating_point else e.copy_(g)

    for _ in range(args.warmup):
        step()
    t, cpu = time.perf_counter(), time.process_time()
    for _ in range(args.steps):
        step()
    wall, used = time.perf_counter() - t, time.process_time() - cpu
    n = args.steps * B
    print('img/s=%.3f cpu_img/s=%.3f ms/step=%.1f' % (n / wall, n / used, 1000 * wall / args.steps))


if __name__ == '__main__':
    main()
