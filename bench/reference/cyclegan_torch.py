"""CycleGAN training step in PyTorch, for speed comparisons with ganforge's aten backend only.

The networks are layer for layer those of src/models/nets/resnet_generator.ts and patchgan.ts (Zhu et al. 2017):
  G (x2): c7s1-ngf (reflect pad 3, 7x7 conv), d(2ngf), d(4ngf) (3x3/s2 conv, zero pad 1), R(4ngf) x n_blocks
     (reflect pad 1, 3x3 conv, IN, ReLU, reflect pad 1, 3x3 conv, IN, + skip), u(2ngf), u(ngf) (3x3/s2 transposed conv,
     padding 1, output_padding 1), c7s1-3 with a bias, tanh. IN = InstanceNorm2d(affine=False) after every other
     conv, followed by ReLU; convs before a norm have no bias. n_blocks = 9 at >= 256 px, 6 at 64-255, 4 below.
  D (x2): PatchGAN on 3 channels with InstanceNorm (see pix2pix_torch.py for the layout and n_layers rule).
  Init N(0, 0.02) for conv weights, zero biases.
The step is ganforge's cycleganStep (src/models/cyclegan.ts): one G update (G_A and G_B jointly) on
(D_B(G_A(A)) - 1)^2 + (D_A(G_B(B)) - 1)^2 + 10*(L1(G_B(G_A(A)), A) + L1(G_A(G_B(B)), B))
+ 0.5*10*(L1(G_A(B), B) + L1(G_B(A), A)) (identity); then D_B on B vs a pooled G_A(A) and D_A on A vs a pooled G_B(B)
(history pools of 50), each 0.5*((D(real) - 1)^2 + D(fake)^2); Adam(2e-4, 0.5, 0.999); losses read every step.
As ganforge does with instance norm, each generator's cycle and identity passes run as one call on both batches
stacked (G([G_B(B); B]), G_B([G_A(A); A])): the same outputs, per-sample networks; --separate runs them as four calls,
as the authors' code does. --plain drops the identity loss and the pools (bench/translate_step.ts's plain step).
Run: /usr/bin/python3 bench/reference/cyclegan_torch.py --size 64 --batch 1 --steps 10 --threads 2
Prints the parameter counts, then 'img/s=<n>' (A/B image pairs per second) over --steps timed steps after a warm-up,
and 'cpu_img/s=<n>', the same per CPU-second used by the process.
"""
import argparse

import random

import torch
import torch.nn as nn

from twin_timing import add_timing_args, parse_twin_args, time_steps

from pix2pix_torch import init_weights, patchgan


def resnet_blocks(size):
    return 9 if size >= 256 else 6 if size >= 64 else 4


class ResBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(c, c, 3, bias=False), nn.InstanceNorm2d(c), nn.ReLU(),
            nn.ReflectionPad2d(1), nn.Conv2d(c, c, 3, bias=False), nn.InstanceNorm2d(c))

    def forward(self, x):
        return x + self.body(x)


def resnet_generator(size, ngf=64, n_blocks=None, in_c=3, out_c=3):
    n_blocks = resnet_blocks(size) if n_blocks is None else n_blocks
    norm_relu = lambda c: [nn.InstanceNorm2d(c), nn.ReLU()]
    layers = [nn.ReflectionPad2d(3), nn.Conv2d(in_c, ngf, 7, bias=False), *norm_relu(ngf)]
    for k in (1, 2):
        layers += [nn.Conv2d(ngf * 2 ** (k - 1), ngf * 2 ** k, 3, 2, 1, bias=False), *norm_relu(ngf * 2 ** k)]
    layers += [ResBlock(ngf * 4) for _ in range(n_blocks)]
    for k in (1, 2):
        c_in, c_out = ngf * 2 ** (3 - k), ngf * 2 ** (2 - k)
        layers += [nn.ConvTranspose2d(c_in, c_out, 3, 2, 1, output_padding=1, bias=False), *norm_relu(c_out)]
    layers += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, out_c, 7, bias=True), nn.Tanh()]
    return nn.Sequential(*layers)


class ImagePool:
    """History of generated images (CycleGAN section 4): filled to `size` first, then each new image is shown
    as is or, with probability 1/2, swapped for a stored one."""

    def __init__(self, size):
        self.size, self.images = size, []

    def query(self, fake):
        out = []
        for image in fake.detach():
            image = image.unsqueeze(0)
            if len(self.images) < self.size:
                self.images.append(image.clone())
                out.append(image)
            elif random.random() > 0.5:
                i = random.randrange(self.size)
                out.append(self.images[i])
                self.images[i] = image.clone()
            else:
                out.append(image)
        return torch.cat(out, 0)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--size', type=int, default=64)
    p.add_argument('--batch', type=int, default=1)
    add_timing_args(p, steps=10, warmup=3)
    p.add_argument('--ngf', type=int, default=64)
    p.add_argument('--ndf', type=int, default=64)
    p.add_argument('--blocks', type=int, default=None)
    p.add_argument('--plain', action='store_true')
    p.add_argument('--separate', action='store_true')
    p.add_argument('--pool', type=int, default=50)
    p.add_argument('--lambda-identity', type=float, default=0.5)
    args = parse_twin_args(p)
    if args.plain:
        args.pool, args.lambda_identity = 0, 0.0
    random.seed(0)
    GA, GB = (init_weights(resnet_generator(args.size, args.ngf, args.blocks)) for _ in range(2))
    DA, DB = (init_weights(patchgan(args.size, 3, args.ndf, nn.InstanceNorm2d)) for _ in range(2))
    count = lambda m: sum(q.numel() for q in m.parameters())
    print('params G=%d D=%d (each of two)' % (count(GA), count(DA)))
    opt_g = torch.optim.Adam(list(GA.parameters()) + list(GB.parameters()), 2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(list(DA.parameters()) + list(DB.parameters()), 2e-4, betas=(0.5, 0.999))
    a = torch.rand(args.batch, 3, args.size, args.size) * 2 - 1
    b = torch.rand(args.batch, 3, args.size, args.size) * 2 - 1
    sq_err = lambda x, target: ((x - target) ** 2).mean()
    d_params = list(DA.parameters()) + list(DB.parameters())

    pool_a, pool_b = ImagePool(args.pool), ImagePool(args.pool)

    def step():
        fake_b, fake_a = GA(a), GB(b)
        for q in d_params:  # D's weight gradients are not needed for G's update (tfjs prunes them too)
            q.requires_grad_(False)
        adversarial = sq_err(DB(fake_b), 1) + sq_err(DA(fake_a), 1)
        if args.lambda_identity > 0 and not args.separate:
            rec_a, idt_a = GB(torch.cat([fake_b, a])).chunk(2)
            rec_b, idt_b = GA(torch.cat([fake_a, b])).chunk(2)
        else:
            rec_a, rec_b = GB(fake_b), GA(fake_a)
            if args.lambda_identity > 0:
                idt_a, idt_b = GB(a), GA(b)
        loss_g = adversarial + 10 * ((rec_a - a).abs().mean() + (rec_b - b).abs().mean())
        if args.lambda_identity > 0:
            loss_g = loss_g + args.lambda_identity * 10 * ((idt_b - b).abs().mean() + (idt_a - a).abs().mean())
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        for q in d_params:
            q.requires_grad_(True)
        pooled_b = pool_b.query(fake_b) if args.pool > 0 else fake_b.detach()
        pooled_a = pool_a.query(fake_a) if args.pool > 0 else fake_a.detach()
        d_loss = lambda D, real, fake: 0.5 * (sq_err(D(real), 1) + sq_err(D(fake), 0))
        loss_d = d_loss(DA, a, pooled_a) + d_loss(DB, b, pooled_b)
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        return loss_g.item(), loss_d.item()

    time_steps(step, args.steps, args.warmup, args.batch)


if __name__ == '__main__':
    main()
