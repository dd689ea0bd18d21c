"""The AttnGAN training step in PyTorch, for speed comparisons with ganforge's aten backend only.

The networks are layer for layer those of src/models/nets/attn_nets.ts (attnGenerator, attnDiscriminators) and
src/text/encoders.ts (the text encoder, the DAMSM image encoder); m stages of sides size / 2^(m-1-i):
  CA: [mu, log sigma^2] = GLU(Linear(sentence) to 4c); c = mu + exp(log sigma^2 / 2) * eps, eps = z's last c numbers.
  F0: [c, noise] -> Linear (no bias) to 4x4x2*c0, BN, GLU -> 4x4xc0; up-blocks [nearest x2, conv3 (no bias) to
      2*out, BN, GLU] halving the channels down to ngf at the first side.
  Fi: word attention (words projected by U [D, ngf], no bias; softmax over the words of h_j . e'_i; context
      sum beta e'), [h, context] -> residual blocks [conv3 to 4ngf, BN, GLU, conv3 to 2ngf, BN, + x] -> up-block.
  Gi: conv3 (no bias) to the channels, tanh, at every stage.
  D_i: conv4 s2 (bias on the first, BN after the others), LeakyReLU 0.2, widths ndf*2^min(j, 3), down to 4x4;
      unconditional head a 4x4 conv; conditional head: sentence replicated over 4x4 and joined, conv3 (no bias),
      BN, LeakyReLU, a 4x4 conv.
  Text encoder (frozen, under no_grad): embedding + bidirectional LSTM; words = its outputs, sentence = the two
      directions' last states. Image encoder (frozen; gradients reach G through it): conv4 s2 (32, 64, ...
      channels, LeakyReLU) down to 8x8 or less; regions = 1x1 conv to D; global = conv3 s2 to 256, LeakyReLU, mean,
      Linear to D.
The step is ganforge's attnGanStep: G forward once (train mode); one D update of the summed stage losses
mean softplus(-[u_real, c_real]) + mean softplus([u_fake, c_fake, c_mismatched]), D run over (reals, sentence),
(reals, sentence rolled by one) and (fakes, sentence); then G under the updated Ds on sum over stages of
softplus(-u_fake) + softplus(-c_fake), + KL (mean) + 5 * DAMSM(last image, caption) with gammas 5, 5, 10 (the
paper's 1/gamma2 form, ganforge's computation order); Adam (2e-4, betas 0.5, 0.999); losses read every step.
Run: /usr/bin/python3 bench/reference/attngan_torch.py --size 32 --batch 16 --threads 2
Prints the parameter counts, then 'img/s=<n>' and 'cpu_img/s=<n>' (see twin_timing.py).
"""
import argparse
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from twin_timing import add_timing_args, parse_twin_args, time_steps

GAMMA1, GAMMA2, GAMMA3 = 5.0, 5.0, 10.0
PAD_PENALTY, EPS = 1e4, 1e-8


def glu(x):
    a, b = x.chunk(2, 1)
    return a * torch.sigmoid(b)


def up_block(cin, out):
    return nn.Sequential(nn.Upsample(scale_factor=2, mode='nearest'), nn.Conv2d(cin, 2 * out, 3, 1, 1, bias=False), nn.BatchNorm2d(2 * out), GLU())


class GLU(nn.Module):
    def forward(self, x):
        return glu(x)


class ResBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.r = nn.Sequential(nn.Conv2d(c, 2 * c, 3, 1, 1, bias=False), nn.BatchNorm2d(2 * c), GLU(), nn.Conv2d(c, c, 3, 1, 1, bias=False), nn.BatchNorm2d(c))

    def forward(self, x):
        return x + self.r(x)


def to_image(c, channels):
    return nn.Sequential(nn.Conv2d(c, channels, 3, 1, 1, bias=False), nn.Tanh())


class WordAttention(nn.Module):
    def __init__(self, text_dim, c):
        super().__init__()
        self.perception = nn.Linear(text_dim, c, bias=False)

    def forward(self, h, words, mask):
        b, c, height, width = h.shape
        projected = self.perception(words)  # e' [B, T, C]
        regions = h.flatten(2).transpose(1, 2)  # [B, N, C]
        beta = torch.softmax(regions @ projected.transpose(1, 2) + mask.log()[:, None, :], 2)  # [B, N, T]
        return (beta @ projected).transpose(1, 2).reshape(b, c, height, width), beta


class NetG(nn.Module):
    def __init__(self, stages, first_side, channels, latent, cond, text_dim, ngf, res_blocks):
        super().__init__()
        self.cond = cond
        self.ca = nn.Linear(text_dim, 4 * cond)
        ups = int(math.log2(first_side // 4))
        self.c0 = ngf * 2 ** ups
        self.fc = nn.Sequential(nn.Linear(latent, 4 * 4 * self.c0 * 2, bias=False), nn.BatchNorm1d(4 * 4 * self.c0 * 2))
        self.f0 = nn.Sequential(*[up_block(self.c0 // 2 ** i, self.c0 // 2 ** (i + 1)) for i in range(ups)])
        self.attn = nn.ModuleList([WordAttention(text_dim, ngf) for _ in range(stages - 1)])
        self.refine = nn.ModuleList([nn.Sequential(*[ResBlock(2 * ngf) for _ in range(res_blocks)], up_block(2 * ngf, ngf)) for _ in range(stages - 1)])
        self.images = nn.ModuleList([to_image(ngf, channels) for _ in range(stages)])

    def forward(self, z, sentence, words, mask):
        noise, eps = z[:, :-self.cond], z[:, -self.cond:]
        mu, logvar = glu(self.ca(sentence)).chunk(2, 1)
        c = mu + torch.exp(0.5 * logvar) * eps
        # ganforge's GLU and reshape run on NHWC-ordered features; the layout differs, the work does not
        h = self.f0(glu(self.fc(torch.cat([c, noise], 1))).view(-1, self.c0, 4, 4))
        images = [self.images[0](h)]
        for attn, refine, image in zip(self.attn, self.refine, self.images[1:]):
            context, _ = attn(h, words, mask)
            h = refine(torch.cat([h, context], 1))
            images.append(image(h))
        return images, mu, logvar


class StageD(nn.Module):
    def __init__(self, side, channels, ndf, text_dim):
        super().__init__()
        layers, cin = [], channels
        for j in range(int(math.log2(side // 4))):
            cout = ndf * 2 ** min(j, 3)
            layers += [nn.Conv2d(cin, cout, 4, 2, 1, bias=j == 0)] + ([nn.BatchNorm2d(cout)] if j > 0 else []) + [nn.LeakyReLU(0.2)]
            cin = cout
        self.features = nn.Sequential(*layers)
        self.uncond = nn.Conv2d(cin, 1, 4, 4)
        self.cond = nn.Sequential(nn.Conv2d(cin + text_dim, cin, 3, 1, 1, bias=False), nn.BatchNorm2d(cin), nn.LeakyReLU(0.2), nn.Conv2d(cin, 1, 4, 4))

    def forward(self, x, sentence):
        h = self.features(x)
        joint = torch.cat([h, sentence[:, :, None, None].expand(-1, -1, 4, 4)], 1)
        return self.uncond(h).view(-1, 1), self.cond(joint).view(-1, 1)


class TextEncoder(nn.Module):
    def __init__(self, vocab, word_dim, text_dim):
        super().__init__()
        self.embed = nn.Embedding(vocab, word_dim, padding_idx=0)
        self.lstm = nn.LSTM(word_dim, text_dim // 2, batch_first=True, bidirectional=True)

    def forward(self, tokens):
        words, (h, _) = self.lstm(self.embed(tokens))
        return words, torch.cat([h[0], h[1]], 1), (tokens != 0).float()


class ImageEncoder(nn.Module):
    def __init__(self, side, channels, text_dim, grid=8):
        super().__init__()
        layers, cin, i = [], channels, 0
        while side > grid or i == 0:
            layers += [nn.Conv2d(cin, 32 << i, 4, 2, 1), nn.LeakyReLU(0.2)]
            cin, side, i = 32 << i, math.ceil(side / 2), i + 1
        self.local = nn.Sequential(*layers)
        self.region = nn.Conv2d(cin, text_dim, 1)
        self.glob = nn.Sequential(nn.Conv2d(cin, 256, 3, 2, 1), nn.LeakyReLU(0.2))
        self.proj = nn.Linear(256, text_dim)

    def forward(self, x):
        h = self.local(x)
        return self.region(h).flatten(2).transpose(1, 2), self.proj(self.glob(h).mean((2, 3)))


def word_relevance(words, mask, regions):
    m, t, d = words.shape
    n, r, _ = regions.shape
    s = (words.reshape(m * t, d) @ regions.reshape(n * r, d).t()).view(m, t, n, r).permute(2, 0, 1, 3)  # [N, M, T, R]
    s_bar = torch.softmax(s - ((1 - mask) * PAD_PENALTY).view(1, m, t, 1), 2)
    alpha = torch.softmax(s_bar * GAMMA1, 3)
    dot = (alpha * s).sum(3)
    flat = alpha.reshape(n, m * t, r)
    context_sq = ((flat @ (regions @ regions.transpose(1, 2))) * flat).sum(2).view(n, m, t)
    word_norm = words.pow(2).sum(2).sqrt().view(1, m, t)
    cos = dot / torch.clamp(torch.sqrt(torch.clamp(context_sq, min=EPS * EPS)) * word_norm, min=EPS)
    return torch.logsumexp(cos * GAMMA2 - ((1 - mask) * PAD_PENALTY).view(1, m, t), 2) / GAMMA2


def sentence_relevance(sentence, glob):
    a, b = glob[:, None, :], sentence[None, :, :]
    return (a * b).sum(-1) / torch.clamp(a.pow(2).sum(-1).sqrt() * b.pow(2).sum(-1).sqrt(), min=EPS)


def both_directions(rel):
    logits = rel * GAMMA3
    diagonal = (logits * torch.eye(rel.shape[0])).sum(1)
    return (torch.logsumexp(logits, 0) - diagonal).mean() + (torch.logsumexp(logits, 1) - diagonal).mean()


def damsm(words, mask, sentence, regions, glob):
    return both_directions(word_relevance(words, mask, regions)) + both_directions(sentence_relevance(sentence, glob))


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--size', type=int, default=32)
    p.add_argument('--channels', type=int, default=3)
    p.add_argument('--stages', type=int, default=0, help='0: 3 from 64 px, else 2')
    p.add_argument('--batch', type=int, default=16)
    add_timing_args(p, steps=5, warmup=2)
    p.add_argument('--width', type=int, default=32, help='ngf')
    p.add_argument('--d-width', type=int, default=64, help='ndf')
    p.add_argument('--latent', type=int, default=200)
    p.add_argument('--cond-dim', type=int, default=100)
    p.add_argument('--res-blocks', type=int, default=2)
    p.add_argument('--lambda-damsm', type=float, default=5.0)
    p.add_argument('--word-dim', type=int, default=300)
    p.add_argument('--text-dim', type=int, default=256)
    p.add_argument('--max-len', type=int, default=12)
    p.add_argument('--vocab', type=int, default=40)
    args = parse_twin_args(p)
    stages = args.stages or (3 if args.size >= 64 else 2)
    sides = [args.size // 2 ** (stages - 1 - i) for i in range(stages)]
    b = args.batch
    G = NetG(stages, sides[0], args.channels, args.latent, args.cond_dim, args.text_dim, args.width, args.res_blocks)
    Ds = nn.ModuleList([StageD(s, args.channels, args.d_width, args.text_dim) for s in sides])
    text_enc = TextEncoder(args.vocab, args.word_dim, args.text_dim).eval()
    image_enc = ImageEncoder(args.size, args.channels, args.text_dim).eval()
    for q in list(text_enc.parameters()) + list(image_enc.parameters()):
        q.requires_grad_(False)
    print('params G=%d D=%d' % (sum(q.numel() for q in G.parameters()), sum(q.numel() for q in Ds.parameters())))
    opt_g = torch.optim.Adam(G.parameters(), 2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(Ds.parameters(), 2e-4, betas=(0.5, 0.999))
    imgs = torch.rand(b, args.channels, args.size, args.size) * 2 - 1
    reals = [imgs]
    for _ in range(stages - 1):
        reals.insert(0, F.avg_pool2d(reals[0], 2))
    tokens = torch.randint(2, args.vocab, (b, args.max_len))
    softplus_mean = lambda x: F.softplus(x).mean()

    def step():
        with torch.no_grad():
            words, sentence, mask = text_enc(tokens)
        mismatched = torch.roll(sentence, -1, 0)
        z = torch.randn(b, args.latent)
        images, mu, logvar = G(z, sentence, words, mask)
        # D step on the stages' real, mismatched and generated batches; G's output is a constant
        loss_d = 0
        for d, real, fake in zip(Ds, reals, images):
            ru, rc = d(real, sentence)
            _, wc = d(real, mismatched)
            fu, fc = d(fake.detach(), sentence)
            loss_d = loss_d + softplus_mean(-torch.cat([ru, rc])) + softplus_mean(torch.cat([fu, fc, wc]))
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        # G step under the updated Ds: adversarial (both heads per stage) + KL + lambda * DAMSM; only G moves
        for q in Ds.parameters():
            q.requires_grad_(False)
        adversarial = 0
        for d, fake in zip(Ds, images):
            fu, fc = d(fake, sentence)
            adversarial = adversarial + softplus_mean(-fu) + softplus_mean(-fc)
        kl = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).mean()
        regions, glob = image_enc(images[-1])
        loss_g = adversarial + kl + args.lambda_damsm * damsm(words, mask, sentence, regions, glob)
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        for q in Ds.parameters():
            q.requires_grad_(True)
        return loss_g.item(), loss_d.item()

    time_steps(step, args.steps, args.warmup, args.batch)


if __name__ == '__main__':
    main()
