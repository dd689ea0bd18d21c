"""pix2pix training step in PyTorch, for speed comparisons with ganforge's aten backend only.

The networks are layer for layer those of src/models/nets/unet.ts and patchgan.ts (Isola et al. 2017):
  G: U-Net, depth log2(size) (levels halving to 1x1), widths ngf*min(2^i, 8); encoder 4x4/s2 convs, LeakyReLU(0.2)
     before every conv but the first, BatchNorm after every conv but the first and the innermost; decoder ReLU,
     4x4/s2 transposed conv, BatchNorm, Dropout(0.5) in the 3 innermost decoder blocks, concat with the encoder
     activation of the same size; last block -> 3 channels, tanh. Bias only on convs not followed by a norm.
  D: PatchGAN on concat(A, B) (6 channels): C64 s2 (no norm), C128.. s2, then a stride-1 C, then a 1-channel
     stride-1 conv; 4x4 kernels, padding 1, LeakyReLU(0.2), BatchNorm; n_layers = patchGanLayers(size).
  Init N(0, 0.02) for conv weights, N(1, 0.02) for BatchNorm scales, zero biases.
The step is ganforge's pix2pixStep (src/models/pix2pix.ts), in the paper's order: G forward once; D update on
0.5*(BCE(D(A, B), 1) + BCE(D(A, G(A)), 0)) with G(A) a constant; then G update on BCE(D(A, G(A)), 1) + 100*L1 under
the updated D, through the same forward; Adam(2e-4, 0.5, 0.999) for both; losses read every step.
--order g-first runs instead the G update first and D's on the kept output (bench/translate_step.ts's plain step).
Run: /usr/bin/python3 bench/reference/pix2pix_torch.py --size 64 --batch 4 --steps 10 --threads 2
Prints the parameter counts, then 'img/s=<n>' (image pairs per second) over --steps timed steps after a warm-up,
and 'cpu_img/s=<n>', the same per CPU-second used by the process.
"""
import argparse

import torch
import torch.nn as nn

from twin_timing import add_timing_args, parse_twin_args, time_steps


def patchgan_layers(size):
    """The most stride-2 layers (<= 3) whose receptive field 9*2^n - 2 is at most half the side (patchgan.ts)."""
    n = 3
    while n > 1 and (size % 2 ** n != 0 or 9 * 2 ** n - 2 > size / 2):
        n -= 1
    return n


class UNet(nn.Module):
    def __init__(self, size, ngf=64, in_c=3, out_c=3, dropout=0.5):
        super().__init__()
        depth = 0
        while size % 2 ** (depth + 1) == 0:
            depth += 1
        width = lambda level: ngf * min(2 ** level, 8)
        self.depth = depth
        self.enc = nn.ModuleList([nn.Conv2d(in_c, width(0), 4, 2, 1, bias=True)])
        self.enc_norm = nn.ModuleList([nn.Identity()])
        for level in range(1, depth):
            innermost = level == depth - 1
            self.enc.append(nn.Conv2d(width(level - 1), width(level), 4, 2, 1, bias=innermost))
            self.enc_norm.append(nn.Identity() if innermost else nn.BatchNorm2d(width(level)))
        # dec[k] upsamples level depth-1-k; its input is the innermost map (k = 0) or a concat (2x the width).
        self.dec = nn.ModuleList()
        self.dec_post = nn.ModuleList()
        for level in range(depth - 1, 0, -1):
            block = depth - level
            c_in = width(level) if block == 1 else 2 * width(level)
            self.dec.append(nn.ConvTranspose2d(c_in, width(level - 1), 4, 2, 1, bias=False))
            post = [nn.BatchNorm2d(width(level - 1))] + ([nn.Dropout(dropout)] if block <= 3 and dropout > 0 else [])
            self.dec_post.append(nn.Sequential(*post))
        self.out = nn.ConvTranspose2d(2 * width(0), out_c, 4, 2, 1, bias=True)

    def forward(self, x):
        h = self.enc[0](x)
        skips = []
        for level in range(1, self.depth):
            act = nn.functional.leaky_relu(h, 0.2)
            skips.append(act)
            h = self.enc_norm[level](self.enc[level](act))
        for k, level in enumerate(range(self.depth - 1, 0, -1)):
            h = self.dec_post[k](self.dec[k](torch.relu(h)))
            h = torch.cat([skips[level - 1], h], 1)
        return torch.tanh(self.out(torch.relu(h)))


def patchgan(size, in_c, ndf=64, norm=nn.BatchNorm2d):
    n = patchgan_layers(size)
    width = lambda i: ndf * min(2 ** i, 8)
    layers = [nn.Conv2d(in_c, width(0), 4, 2, 1, bias=True), nn.LeakyReLU(0.2)]
    for i in range(1, n + 1):
        layers += [nn.Conv2d(width(i - 1), width(i), 4, 2 if i < n else 1, 1, bias=False), norm(width(i)), nn.LeakyReLU(0.2)]
    layers.append(nn.Conv2d(width(n), 1, 4, 1, 1, bias=True))
    return nn.Sequential(*layers)


def init_weights(net):
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)
    return net


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--size', type=int, default=64)
    p.add_argument('--batch', type=int, default=4)
    add_timing_args(p, steps=10, warmup=3)
    p.add_argument('--ngf', type=int, default=64)
    p.add_argument('--ndf', type=int, default=64)
    p.add_argument('--order', choices=['d-first', 'g-first'], default='d-first')
    args = parse_twin_args(p)
    G = init_weights(UNet(args.size, args.ngf))
    D = init_weights(patchgan(args.size, 6, args.ndf))
    print('params G=%d D=%d' % (sum(p.numel() for p in G.parameters()), sum(p.numel() for p in D.parameters())))
    opt_g = torch.optim.Adam(G.parameters(), 2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), 2e-4, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()  # softplus on logits, as the TS step
    a = torch.rand(args.batch, 3, args.size, args.size) * 2 - 1
    b = torch.rand(args.batch, 3, args.size, args.size) * 2 - 1

    def set_d_trainable(on):
        for q in D.parameters():  # D's weight gradients are not needed for G's update (tfjs prunes them too)
            q.requires_grad_(on)

    def d_update(fake):
        real_logits, fake_logits = D(torch.cat([a, b], 1)), D(torch.cat([a, fake.detach()], 1))
        loss_d = 0.5 * (bce(real_logits, torch.ones_like(real_logits)) + bce(fake_logits, torch.zeros_like(fake_logits)))
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        return loss_d

    def g_update(fake):
        set_d_trainable(False)
        logits = D(torch.cat([a, fake], 1))
        loss_g = bce(logits, torch.ones_like(logits)) + 100 * (fake - b).abs().mean()
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        set_d_trainable(True)
        return loss_g

    def step():
        fake = G(a)
        if args.order == 'd-first':  # the authors' optimize_parameters: D, then G under the updated D
            loss_d = d_update(fake)
            loss_g = g_update(fake)
        else:
            loss_g = g_update(fake)
            loss_d = d_update(fake)
        return loss_g.item(), loss_d.item()

    time_steps(step, args.steps, args.warmup, args.batch)


if __name__ == '__main__':
    main()
