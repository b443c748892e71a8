#!/usr/bin/env python3
"""torch_deep.py -- PyTorch CPU timings of the deep family (`vae train --arch deep`), the same
architecture as Sources/VAE/Model/HierarchicalVAE.swift and ModelConfig.deep, timed like
../shared/bench/torch_reference.py so that scripts/bench-compare can put both sides in one run.

Usage: python3 bench/torch_deep.py [--threads 2] [--warmup 5] [--steps 30] [--json out.json]
                                   [--models deep-mnist,deep-cifar] [--batches 128]

Models (ModelConfig.deep for the geometry; widths per stage, one residual block per stage,
latent groups per stage highest resolution first, latent channels per group):
  deep-mnist: 28x28x1, stages 14x14 (32) and 7x7 (64), groups [1, 2], 8 channels
  deep-cifar: 32x32x3, stages 16x16 (32), 8x8 (64), 4x4 (64), groups [1, 2, 2], 16 channels
  bottom-up: Conv(4,2,1) into each stage, then its residual blocks; e_s = the stage's output
  top-down, lowest resolution first: per group prior Conv3x3(h) (none for the top: N(0, I)),
  posterior Conv3x3([h; e_s]) + prior (the top: Conv3x3(e_s)), z = mu + sigma eps,
  h = block(h + Conv1x1(z)); then the stage's residual blocks and ConvT(4,2,1) to the next;
  head: ELU, ConvT(4,2,1) to logits.
  residual block: x + Conv3x3(ELU(Conv3x3(x))).
Loss = BCE with logits (sum over pixels) + the groups' KL (sum), averaged over the batch, as
`vae bench` (which also uses a Bernoulli likelihood). Adam(lr=1e-3).
Training step = zero_grad + forward + loss + backward + optimizer.step.
Inference = bottom-up, top-down with posterior draws, sigmoid, under torch.no_grad().
Data: uniform random in [0,1]. Timing: time.perf_counter around each step; warm-up steps
discarded; median step time; images/s = batch / median.
"""
import argparse
import json
import platform
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

MODELS = {
    "deep-mnist": dict(in_ch=1, img=28, widths=[32, 64], groups=[1, 2], zc=8, blocks=1),
    "deep-cifar": dict(in_ch=3, img=32, widths=[32, 64, 64], groups=[1, 2, 2], zc=16, blocks=1),
}


class ResBlock(nn.Module):
    def __init__(self, c, scale):
        super().__init__()
        self.c1 = nn.Conv2d(c, c, 3, 1, 1)
        self.c2 = nn.Conv2d(c, c, 3, 1, 1)
        with torch.no_grad():
            self.c2.weight.mul_(scale)
            self.c2.bias.zero_()

    def forward(self, x):
        return x + self.c2(F.elu(self.c1(x)))


def kl_normal(mu, lv):
    return 0.5 * (mu * mu + lv.exp() - lv - 1)


def kl_pair(mq, lq, mp, lp):
    return 0.5 * (lp - lq + (lq.exp() + (mq - mp) ** 2) * (-lp).exp() - 1)


class Group(nn.Module):
    def __init__(self, c, zc, top, scale):
        super().__init__()
        self.top = top
        self.prior = None if top else nn.Conv2d(c, 2 * zc, 3, 1, 1)
        self.post = nn.Conv2d(c if top else 2 * c, 2 * zc, 3, 1, 1)
        self.proj = nn.Conv2d(zc, c, 1)
        self.block = ResBlock(c, scale)
        with torch.no_grad():
            self.proj.weight.mul_(scale)
            self.proj.bias.zero_()
            if self.prior is not None:
                self.prior.weight.zero_()
                self.prior.bias.zero_()

    def forward(self, h, e):
        if self.top:
            mq, lq = self.post(e).chunk(2, 1)
            kl = kl_normal(mq, lq)
        else:
            p = self.prior(h)
            mq, lq = (self.post(torch.cat([h, e], 1)) + p).chunk(2, 1)
            mp, lp = p.chunk(2, 1)
            kl = kl_pair(mq, lq, mp, lp)
        z = mq + (0.5 * lq).exp() * torch.randn_like(mq)
        s = self.proj(z) if h is None else self.proj(z) + h
        return self.block(s), kl.flatten(1).sum(1)


class DeepVAE(nn.Module):
    def __init__(self, in_ch, img, widths, groups, zc, blocks):
        super().__init__()
        total = 2 * len(widths) * blocks + sum(groups)
        scale = total ** -0.5
        self.enc, c = nn.ModuleList(), in_ch
        for w in widths:
            self.enc.append(nn.Sequential(nn.Conv2d(c, w, 4, 2, 1), *[ResBlock(w, scale) for _ in range(blocks)]))
            c = w
        self.stage_groups, self.stage_blocks, self.up = nn.ModuleList(), nn.ModuleList(), nn.ModuleList()
        first = True
        for s in reversed(range(len(widths))):
            gs = nn.ModuleList()
            for _ in range(groups[s]):
                gs.append(Group(widths[s], zc, first, scale))
                first = False
            self.stage_groups.append(gs)
            self.stage_blocks.append(nn.Sequential(*[ResBlock(widths[s], scale) for _ in range(blocks)]))
            self.up.append(nn.ConvTranspose2d(widths[s], widths[s - 1], 4, 2, 1) if s > 0 else nn.Identity())
        self.head = nn.ConvTranspose2d(widths[0], in_ch, 4, 2, 1)

    def forward(self, x):
        feats, h = [], x
        for stage in self.enc:
            h = stage(h)
            feats.append(h)
        h, kl = None, 0
        for i, s in enumerate(reversed(range(len(feats)))):
            for g in self.stage_groups[i]:
                h, k = g(h, feats[s])
                kl = kl + k
            h = self.up[i](self.stage_blocks[i](h))
        return self.head(F.elu(h)), kl


def loss_fn(logits, x, kl):
    bce = F.binary_cross_entropy_with_logits(logits, x, reduction="sum")
    return (bce + kl.sum()) / x.shape[0]


def conv_flops(c_in, c_out, k, out_hw):
    return 2 * c_in * c_out * k * k * out_hw * out_hw


def analytic_fwd_flops(in_ch, img, widths, groups, zc, blocks):
    """2*MACs per image of every convolution (bias, activations, KL and loss ignored)."""
    fl, c, s = 0, in_ch, img
    sizes = []
    for w in widths:
        s //= 2
        sizes.append(s)
        fl += conv_flops(c, w, 4, s) + blocks * 2 * conv_flops(w, w, 3, s)
        c = w
    first = True
    for st in reversed(range(len(widths))):
        w, s = widths[st], sizes[st]
        for _ in range(groups[st]):
            fl += conv_flops(w if first else 2 * w, 2 * zc, 3, s) + (0 if first else conv_flops(w, 2 * zc, 3, s))
            fl += conv_flops(zc, w, 1, s) + 2 * conv_flops(w, w, 3, s)
            first = False
        fl += blocks * 2 * conv_flops(w, w, 3, s)
        if st > 0:
            fl += conv_flops(widths[st - 1], w, 4, s)  # the matching convolution of the ConvT
    fl += conv_flops(in_ch, widths[0], 4, sizes[0])
    return fl


def time_train(cfg, batch, warmup, steps, seed=0):
    torch.manual_seed(seed)
    m = DeepVAE(**cfg)
    x = torch.rand(batch, cfg["in_ch"], cfg["img"], cfg["img"])
    opt = torch.optim.Adam(m.parameters(), lr=1e-3)
    times, losses = [], []
    for i in range(warmup + steps):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        logits, kl = m(x)
        loss = loss_fn(logits, x, kl)
        loss.backward()
        opt.step()
        dt = time.perf_counter() - t0
        if i >= warmup:
            times.append(dt)
        losses.append(loss.item())
    return times, losses


def time_infer(cfg, batch, warmup, steps, seed=0):
    torch.manual_seed(seed)
    m = DeepVAE(**cfg).eval()
    x = torch.rand(batch, cfg["in_ch"], cfg["img"], cfg["img"])
    times = []
    with torch.no_grad():
        for i in range(warmup + steps):
            t0 = time.perf_counter()
            logits, _ = m(x)
            torch.sigmoid(logits)
            dt = time.perf_counter() - t0
            if i >= warmup:
                times.append(dt)
    return times


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--json", default=None)
    ap.add_argument("--models", default="deep-mnist,deep-cifar")
    ap.add_argument("--batches", default="128", help="training batch sizes, comma-separated")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    print(f"torch {torch.__version__}  python {platform.python_version()}  threads={torch.get_num_threads()}"
          f"  mkldnn={torch.backends.mkldnn.is_available()}  cpu_capability={torch.backends.cpu.get_cpu_capability()}")
    results = []
    for name in a.models.split(","):
        cfg = MODELS[name]
        fl = analytic_fwd_flops(**cfg)
        nparams = sum(p.numel() for p in DeepVAE(**cfg).parameters())
        print(f"\nModel {name}: params={nparams}  fwd FLOPs/image={fl} ({fl / 1e6:.3f} MFLOP)")
        for bs in (int(b) for b in a.batches.split(",")):
            t, losses = time_train(cfg, bs, a.warmup, a.steps)
            med = statistics.median(t)
            ips = bs / med
            gf = 3 * fl * ips / 1e9
            print(f"  train bs={bs:3d}: median step {med * 1e3:8.2f} ms (min {min(t) * 1e3:.2f}, max {max(t) * 1e3:.2f},"
                  f" n={len(t)})  -> {ips:8.1f} img/s  ~{gf:6.2f} GFLOP/s (3x fwd)  loss {losses[0]:.1f}->{losses[-1]:.1f}")
            results.append(dict(model=name, mode="train", batch=bs, median_s=med, min_s=min(t), max_s=max(t),
                                img_per_s=ips, gflops=gf, fwd_flops=fl, n=len(t)))
        t = time_infer(cfg, 128, a.warmup, a.steps)
        med = statistics.median(t)
        print(f"  infer bs=128: median step {med * 1e3:8.2f} ms  -> {128 / med:8.1f} img/s")
        results.append(dict(model=name, mode="infer", batch=128, median_s=med, min_s=min(t), max_s=max(t),
                            img_per_s=128 / med, fwd_flops=fl, n=len(t)))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(dict(torch=torch.__version__, threads=a.threads, results=results), f, indent=1)


if __name__ == "__main__":
    main()
