"""StyleGAN2 training step in PyTorch, for speed comparisons with ganforge's aten backend only.

The networks are layer for layer those of src/models/nets/stylegan2_nets.ts (Karras et al. 2020, config E/F):
  mapping: z normalised (pixel norm), `mapping` equalized dense layers (lr multiplier 0.01, leaky ReLU(0.2)*sqrt2)
  synthesis: w+ [B, num_ws, w_dim]; a learned 4x4 constant; styled 3x3 convs (affine style, modulation x*s,
     2x [1,3,3,1] upsampling before the first conv of a block, demodulation, per-pixel noise * strength, bias, lrelu);
     toRGB: modulated 1x1 conv without demodulation + bias, plus the upsampled image so far (skip generator);
     num_ws = 2*log2(size) - 2, a toRGB sharing the w of the next block's first conv
  D: fromRGB 1x1 conv, residual blocks (conv3x3, conv3x3, [1,3,3,1] downsampling; 1x1 skip on the downsampled
     input; sum / sqrt2) down to 4x4, minibatch stddev (group 4), conv3x3, dense, dense -> logit
  channels at resolution r: min(width * size / r, max_width); equalized learning rate everywhere
The step is ganforge's stylegan2Step (src/models/stylegan2.ts), in its order: G main (non-saturating loss, style
mixing with probability 0.9), path length every 4 steps on half the batch (grad of sum(G(w)*y) w.r.t. w+, created
for a second backward, weight 2*4), D main (softplus losses, G(z) without a graph), R1 every 16 steps (weight
gamma/2*16, a second backward through D), the mean-w tracker and G's EMA (lerp of every parameter, buffers copied).
Adam(lr*c, betas (0, 0.99^c)), c = k/(k+1) per player; losses read every step.
The [1,3,3,1] resampling is built from shifted copies, stack and reshape, as in ganforge (src/nn/resample.ts): in
this PyTorch build the depthwise transposed convolution that would do the upsampling runs slow_conv_transpose2d,
a loop over channel groups, 25x slower than these ops forward, backward and double backward at 16x16x256.
Run: /usr/bin/python3 bench/reference/stylegan2_torch.py --size 32 --batch 32 --steps 16 --threads 2
Prints the parameter counts, then 'img/s=<n>' over --steps timed steps after a warm-up, and 'cpu_img/s=<n>'.
"""
import argparse
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from twin_timing import add_timing_args, parse_twin_args, time_steps

SQRT2 = math.sqrt(2)


def lrelu(x):
    return F.leaky_relu(x, 0.2) * SQRT2


def shift(x, dim, by):
    """x moved by one place along dim, zeros entering: shift(x, d, 1)[i] = x[i - 1]."""
    n = x.shape[dim]
    zero = torch.zeros_like(x.narrow(dim, 0, 1))
    return torch.cat([zero, x.narrow(dim, 0, n - 1)] if by == 1 else [x.narrow(dim, 1, n - 1), zero], dim)


def upsample_dim(x, dim):  # out[2i] = (x[i-1] + 3x[i])/4, out[2i+1] = (3x[i] + x[i+1])/4
    three = x * 0.75
    size = list(x.shape)
    size[dim] *= 2
    return torch.stack([three + shift(x, dim, 1) * 0.25, three + shift(x, dim, -1) * 0.25], dim + 1).reshape(size)


def downsample_dim(x, dim):  # out[i] = (x[2i-1] + 3x[2i] + 3x[2i+1] + x[2i+2])/8
    pairs = list(x.shape)
    pairs[dim] //= 2
    pairs.insert(dim + 1, 2)
    even, odd = x.reshape(pairs).unbind(dim + 1)
    return ((even + odd) * 3 + shift(odd, dim, 1) + shift(even, dim, -1)) * 0.125


def upsample2x(x):  # the [1,3,3,1] filter, zeros outside
    return upsample_dim(upsample_dim(x, 2), 3)


def downsample2x(x):
    return downsample_dim(downsample_dim(x, 2), 3)


class EqDense(nn.Module):
    def __init__(self, cin, cout, lr_mul=1.0, act=False, bias_init=0.0):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(cout, cin) / lr_mul)
        self.bias = nn.Parameter(torch.full([cout], bias_init / lr_mul))
        self.gain, self.lr_mul, self.act = lr_mul / math.sqrt(cin), lr_mul, act

    def forward(self, x):
        y = F.linear(x, self.weight * self.gain, self.bias * self.lr_mul)
        return lrelu(y) if self.act else y


class EqConv(nn.Module):
    def __init__(self, cin, cout, k, bias=True, act=True):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(cout, cin, k, k))
        self.bias = nn.Parameter(torch.zeros(cout)) if bias else None
        self.gain, self.act, self.pad = 1 / math.sqrt(cin * k * k), act, k // 2

    def forward(self, x):
        y = F.conv2d(x, self.weight * self.gain, self.bias, padding=self.pad)
        return lrelu(y) if self.act else y


class Mapping(nn.Module):
    def __init__(self, z_dim, w_dim, depth):
        super().__init__()
        self.layers = nn.ModuleList([EqDense(z_dim if i == 0 else w_dim, w_dim, lr_mul=0.01, act=True) for i in range(depth)])
        self.register_buffer('w_avg', torch.zeros(w_dim))

    def forward(self, z):
        h = z * torch.rsqrt(z.square().mean(1, keepdim=True) + 1e-8)
        for layer in self.layers:
            h = layer(h)
        return h


class ModConv(nn.Module):
    def __init__(self, cin, cout, k, w_dim, demod=True, up=False):
        super().__init__()
        self.affine = EqDense(w_dim, cin, bias_init=1.0)
        self.weight = nn.Parameter(torch.randn(cout, cin, k, k))
        self.gain, self.demod, self.up, self.pad = 1 / math.sqrt(cin * k * k), demod, up, k // 2

    def forward(self, x, w):
        s = self.affine(w) * self.gain  # [B, cin]
        h = x * s[:, :, None, None]
        if self.up:
            h = upsample2x(h)
        y = F.conv2d(h, self.weight, padding=self.pad)
        if self.demod:
            d = torch.rsqrt(s.square() @ self.weight.square().sum([2, 3]).t() + 1e-8)  # [B, cout]
            y = y * d[:, :, None, None]
        return y


class StyledConv(nn.Module):
    def __init__(self, cin, cout, w_dim, up=False):
        super().__init__()
        self.conv = ModConv(cin, cout, 3, w_dim, up=up)
        self.strength = nn.Parameter(torch.zeros([]))
        self.bias = nn.Parameter(torch.zeros(cout))

    def forward(self, x, w):
        y = self.conv(x, w)
        noise = torch.randn(y.shape[0], 1, y.shape[2], y.shape[3])
        return lrelu(y + noise * self.strength + self.bias[None, :, None, None])


class ToRGB(nn.Module):
    def __init__(self, cin, channels, w_dim):
        super().__init__()
        self.conv = ModConv(cin, channels, 1, w_dim, demod=False)
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x, w, prev=None):
        y = self.conv(x, w) + self.bias[None, :, None, None]
        return y if prev is None else y + upsample2x(prev)


class Synthesis(nn.Module):
    def __init__(self, size, channels, w_dim, ch):
        super().__init__()
        self.const = nn.Parameter(torch.randn(1, ch(4), 4, 4))
        self.conv4 = StyledConv(ch(4), ch(4), w_dim)
        self.rgb4 = ToRGB(ch(4), channels, w_dim)
        self.blocks = nn.ModuleList()
        r = 8
        while r <= size:
            self.blocks.append(nn.ModuleList([StyledConv(ch(r // 2), ch(r), w_dim, up=True), StyledConv(ch(r), ch(r), w_dim), ToRGB(ch(r), channels, w_dim)]))
            r *= 2
        self.num_ws = 2 * int(math.log2(size)) - 2

    def forward(self, ws):
        x = self.conv4(self.const.expand(ws.shape[0], -1, -1, -1), ws[:, 0])
        img = self.rgb4(x, ws[:, 1])
        for k, (conv0, conv1, rgb) in enumerate(self.blocks):
            i = 2 * k + 1
            x = conv1(conv0(x, ws[:, i]), ws[:, i + 1])
            img = rgb(x, ws[:, i + 2], img)
        return img


class ResBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv0, self.conv1 = EqConv(cin, cin, 3), EqConv(cin, cout, 3)
        self.skip = EqConv(cin, cout, 1, bias=False, act=False)

    def forward(self, x):
        return (downsample2x(self.conv1(self.conv0(x))) + self.skip(downsample2x(x))) / SQRT2


class Discriminator(nn.Module):
    def __init__(self, size, channels, ch, group):
        super().__init__()
        self.from_rgb = EqConv(channels, ch(size), 1)
        self.blocks = nn.Sequential(*[ResBlock(ch(r), ch(r // 2)) for r in [size // 2 ** k for k in range(int(math.log2(size)) - 2)]])
        self.group = group
        self.conv = EqConv(ch(4) + (1 if group else 0), ch(4), 3)
        self.fc = EqDense(16 * ch(4), ch(4), act=True)
        self.out = EqDense(ch(4), 1)

    def forward(self, x):
        h = self.blocks(self.from_rgb(x))
        if self.group:
            b = h.shape[0]
            g = min(self.group, b) if b % min(self.group, b) == 0 else b
            y = h.reshape(g, b // g, *h.shape[1:])
            y = (y - y.mean(0)).square().mean(0).add(1e-8).sqrt().mean([1, 2, 3])  # [B/g]
            h = torch.cat([h, y.repeat(g)[:, None, None, None].expand(b, 1, 4, 4)], 1)
        return self.out(self.fc(self.conv(h).flatten(1)))


class Generator(nn.Module):
    def __init__(self, args, ch):
        super().__init__()
        self.mapping = Mapping(args.z_dim, args.w_dim, args.mapping)
        self.synthesis = Synthesis(args.size, 3, args.w_dim, ch)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--size', type=int, default=32)
    p.add_argument('--batch', type=int, default=32)
    add_timing_args(p, steps=16, warmup=2)
    p.add_argument('--width', type=int, default=64)
    p.add_argument('--max-width', type=int, default=256)
    p.add_argument('--z-dim', type=int, default=256)
    p.add_argument('--w-dim', type=int, default=256)
    p.add_argument('--mapping', type=int, default=8)
    p.add_argument('--gamma', type=float, default=0.0064)
    p.add_argument('--mbstd', type=int, default=4)
    args = parse_twin_args(p)
    ch = lambda r: min(args.width * args.size // r, args.max_width)
    G, D = Generator(args, ch), Discriminator(args.size, 3, ch, args.mbstd)
    G_ema = Generator(args, ch)
    G_ema.load_state_dict(G.state_dict())
    G_ema.requires_grad_(False)
    print('params G=%d D=%d' % (sum(q.numel() for q in G.parameters()), sum(q.numel() for q in D.parameters())))
    pl_interval, r1_interval = 4, 16
    cg, cd = pl_interval / (pl_interval + 1), r1_interval / (r1_interval + 1)
    opt_g = torch.optim.Adam(G.parameters(), 0.0025 * cg, betas=(0.0, 0.99 ** cg), eps=1e-8)
    opt_d = torch.optim.Adam(D.parameters(), 0.0025 * cd, betas=(0.0, 0.99 ** cd), eps=1e-8)
    num_ws, B = G.synthesis.num_ws, args.batch
    real = torch.rand(B, 3, args.size, args.size) * 2 - 1
    state = {'t': 0, 'pl_mean': 0.0}

    def map_latents(n):  # w of the first latent, w+ with style mixing (probability 0.9, one crossover per batch)
        w = G.mapping(torch.randn(n, args.z_dim))
        cutoff = int(torch.randint(1, num_ws, [])) if float(torch.rand([])) < 0.9 else num_ws
        ws = w[:, None].repeat(1, num_ws, 1)
        if cutoff < num_ws:
            ws = torch.cat([ws[:, :cutoff], G.mapping(torch.randn(n, args.z_dim))[:, None].repeat(1, num_ws - cutoff, 1)], 1)
        return w, ws

    def update(opt, loss):
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    def step():
        t = state['t']
        D.requires_grad_(False)
        w, ws = map_latents(B)  # G main
        loss_g = F.softplus(-D(G.synthesis(ws))).mean()
        update(opt_g, loss_g)
        w_mean = w.detach().mean(0)
        if t % pl_interval == 0:  # G reg: path length
            _, ws = map_latents(B // 2)
            img = G.synthesis(ws)
            y = torch.randn_like(img) / math.sqrt(args.size * args.size)
            jty, = torch.autograd.grad((img * y).sum(), ws, create_graph=True)
            lengths = jty.square().sum(2).mean(1).sqrt()
            state['pl_mean'] += 0.01 * (float(lengths.mean()) - state['pl_mean'])
            update(opt_g, (lengths - state['pl_mean']).square().mean() * 2 * pl_interval)
        D.requires_grad_(True)
        with torch.no_grad():  # D main
            fake = G.synthesis(map_latents(B)[1])
        real_logits, fake_logits = D(real), D(fake)
        loss_d = F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()
        update(opt_d, loss_d)
        if t % r1_interval == 0:  # D reg: R1
            x = real.detach().requires_grad_(True)
            g, = torch.autograd.grad(D(x).sum(), x, create_graph=True)
            update(opt_d, g.square().sum([1, 2, 3]).mean() * (args.gamma / 2) * r1_interval)
        with torch.no_grad():  # the mean w, then G's EMA (half-life 10k images, ramp-up 5%)
            G.mapping.w_avg.lerp_(w_mean, 0.005)
            n = min(10_000, t * B * 0.05)
            beta = 0.5 ** (B / n) if n > 0 else 0.0
            for q_ema, q in zip(G_ema.parameters(), G.parameters()):
                q_ema.lerp_(q, 1 - beta)
            for b_ema, b in zip(G_ema.buffers(), G.buffers()):
                b_ema.copy_(b)
        state['t'] = t + 1
        return loss_g.item(), loss_d.item(), real_logits.sigmoid().mean().item(), fake_logits.sigmoid().mean().item()

    time_steps(step, args.steps, args.warmup, B)


if __name__ == '__main__':
    main()
