#!/usr/bin/env python3
"""torch_conditional.py -- the conditional VAE of `vae train --task inpaint|colorize` in PyTorch,
timed like ../shared/bench/torch_reference.py, so that `vae bench --task` has a same-run reference.

Usage: python3 bench/torch_conditional.py [--task inpaint|colorize] [--arch cifar|tiny64]
                                          [--threads 2] [--batch 64] [--warmup 5] [--steps 30]
                                          [--channels-last] [--compile] [--json out.json]

The network (Sources/VAE/Conditional/ConditionalVAE.swift), for widths w1..wn (cifar: 32, 64, 128;
tiny64: 32, 64, 128, 256), latent 128, images HxW:
  posterior q(z|x,c): Conv(4,2,1)+ReLU over [x; c] per width -> Linear(flat, 2L)
  prior p(z|c):       the same stages over c (their feature maps kept) -> Linear(flat, 2L)
  decoder:            Linear(L, flat)+ReLU -> per stage ConvT(4,2,1)+ReLU over [h; prior map]
  head:               inpaint: Conv3x3 over [features; c] -> 3 means (Gaussian, learned log-variance
                      per channel, loss on the missing pixels: weights = mask)
                      colorize: the decoder stops two stages early; Conv1x1 over [features; prior
                      map] -> 256 logits of quantized colors at 1/4 resolution (softmax
                      cross-entropy with per-position weights)
Inpaint: x RGB, c = [x with holes; mask] (4 channels); colorize: x = (Cb, Cr), c = Y.
Loss = reconstruction + KL(q || p), per image, averaged; one step in four trains the prior
path instead (z from the prior, no posterior; for inpainting the best of 4 draws per image),
as `vae train` does by default.
"""
import argparse
import json
import platform
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

WIDTHS = {"cifar": (32, [32, 64, 128]), "tiny64": (64, [32, 64, 128, 256])}


class ConditionalVAE(nn.Module):
    def __init__(self, task, size, widths, latent=128, prior_samples=1):
        super().__init__()
        self.task, self.latent, self.prior_samples = task, latent, prior_samples
        ct, cc = (3, 4) if task == "inpaint" else (2, 1)
        self.drop = 2 if task == "colorize" else 0
        n = len(widths)

        def stages(cin):
            layers, c = nn.ModuleList(), cin
            for w in widths:
                layers.append(nn.Conv2d(c, w, 4, 2, 1))
                c = w
            return layers

        self.post = stages(ct + cc)
        self.prior = stages(cc)
        self.s = size // 2 ** n
        flat = widths[-1] * self.s * self.s
        self.post_head = nn.Linear(flat, 2 * latent)
        self.prior_head = nn.Linear(flat, 2 * latent)
        self.proj = nn.Linear(latent, flat)
        outs = list(reversed(widths))[1:] + [widths[0]]
        outs = outs[: n - self.drop]
        self.dec, c = nn.ModuleList(), widths[-1]
        for i, w in enumerate(outs):
            skip = widths[n - 1 - i]
            self.dec.append(nn.ConvTranspose2d(c + skip, w, 4, 2, 1))
            c = w
        joined = cc if self.drop == 0 else widths[n - len(outs) - 1]
        self.head = nn.Conv2d(c + joined, 256 if task == "colorize" else ct,
                              1 if task == "colorize" else 3, 1, 0 if task == "colorize" else 1)
        self.logvar = nn.Parameter(torch.full((ct,), -4.6)) if task == "inpaint" else None
        self.widths = widths

    def run_stages(self, layers, x):
        maps = []
        for conv in layers:
            x = F.relu(conv(x))
            maps.append(x)
        return x, maps

    def decode(self, z, maps, c):
        h = F.relu(self.proj(z)).view(z.shape[0], self.widths[-1], self.s, self.s)
        n = len(self.widths)
        for i, conv in enumerate(self.dec):
            h = F.relu(conv(torch.cat([h, maps[n - 1 - i]], 1)))
        joined = c if self.drop == 0 else maps[n - len(self.dec) - 1]
        return self.head(torch.cat([h, joined], 1))

    def loss(self, out, x, weight, labels):
        if self.task == "colorize":
            ce = F.cross_entropy(out, labels, reduction="none")
            return (ce * weight).flatten(1).sum(1)
        lv = self.logvar.view(1, -1, 1, 1)
        nll = 0.5 * (0.9189385332 * 2 + lv + (x - out) ** 2 * torch.exp(-lv))
        return (nll * weight).flatten(1).sum(1)

    def forward(self, x, c, weight, labels, prior_path):
        hp, maps = self.run_stages(self.prior, c)
        mp, lp = self.prior_head(hp.flatten(1)).chunk(2, 1)
        if prior_path:
            eps = torch.randn_like(mp)
            if self.prior_samples > 1:
                # The best of K draws per image, scored without gradients (`vae train`'s
                # --prior-path-samples).
                with torch.no_grad():
                    best = self.loss(self.decode(mp + torch.exp(0.5 * lp) * eps, maps, c), x, weight, labels)
                    for _ in range(self.prior_samples - 1):
                        e = torch.randn_like(mp)
                        l = self.loss(self.decode(mp + torch.exp(0.5 * lp) * e, maps, c), x, weight, labels)
                        better = l < best
                        best = torch.where(better, l, best)
                        eps = torch.where(better[:, None], e, eps)
            z = mp + torch.exp(0.5 * lp) * eps
            return self.loss(self.decode(z, maps, c), x, weight, labels).mean()
        hq, _ = self.run_stages(self.post, torch.cat([x, c], 1))
        mq, lq = self.post_head(hq.flatten(1)).chunk(2, 1)
        z = mq + torch.exp(0.5 * lq) * torch.randn_like(mq)
        rec = self.loss(self.decode(z, maps, c), x, weight, labels)
        kl = 0.5 * (lp - lq + (torch.exp(lq) + (mq - mp) ** 2) * torch.exp(-lp) - 1).sum(1)
        return (rec + kl).mean()

    def fwd_flops(self, size):
        """2*MACs per image of the ELBO step's forward (convs, transposed convs, linears)."""
        fl = 0
        for m in self.modules():
            if isinstance(m, nn.Linear):
                fl += 2 * m.in_features * m.out_features
        def conv_stages(cin):
            f, c, s = 0, cin, size
            for w in self.widths:
                s //= 2
                f += 2 * w * c * 16 * s * s
                c = w
            return f
        ct, cc = (3, 4) if self.task == "inpaint" else (2, 1)
        fl += conv_stages(ct + cc) + conv_stages(cc)
        s = self.s
        for conv in self.dec:
            fl += 2 * conv.in_channels * conv.out_channels * 16 * s * s
            s *= 2
        fl += 2 * self.head.in_channels * self.head.out_channels * self.head.kernel_size[0] ** 2 * s * s
        return fl


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--task", default="inpaint", choices=["inpaint", "colorize"])
    ap.add_argument("--arch", default="cifar", choices=list(WIDTHS))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--channels-last", action="store_true")
    ap.add_argument("--compile", action="store_true")
    ap.add_argument("--json", default=None)
    ap.add_argument("--prior-samples", type=int, default=None,
                    help="draws per image of a prior-path step (default: 4 for inpaint, 1 for colorize)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    size, widths = WIDTHS[a.arch]
    m = ConditionalVAE(a.task, size, widths,
                       prior_samples=a.prior_samples or (4 if a.task == "inpaint" else 1))
    B = a.batch
    if a.task == "inpaint":
        x = torch.rand(B, 3, size, size)
        mask = (torch.rand(B, 1, size, size) < 0.25).float()
        c = torch.cat([x * (1 - mask), mask], 1)
        weight, labels = mask.expand(B, 3, size, size).contiguous(), None
    else:
        x, c = torch.rand(B, 2, size, size), torch.rand(B, 1, size, size)
        weight = torch.ones(B, size // 4, size // 4)
        labels = torch.randint(0, 256, (B, size // 4, size // 4))
    if a.channels_last:
        m = m.to(memory_format=torch.channels_last)
        x, c = x.contiguous(memory_format=torch.channels_last), c.contiguous(memory_format=torch.channels_last)
    opt = torch.optim.Adam(m.parameters(), lr=1e-3)

    def step(prior_path):
        opt.zero_grad(set_to_none=True)
        loss = m(x, c, weight, labels, prior_path)
        loss.backward()
        opt.step()
        return loss

    run = torch.compile(step) if a.compile else step
    times = []
    for i in range(max(a.warmup, 3 if a.compile else 0) + a.steps):
        t0 = time.perf_counter()
        run(i % 4 == 3)
        dt = time.perf_counter() - t0
        if i >= a.warmup:
            times.append(dt)
    med = statistics.median(times)
    fl = m.fwd_flops(size)
    ips = B / med
    print(f"torch {torch.__version__} python {platform.python_version()} threads={torch.get_num_threads()}")
    print(f"{a.task} {a.arch}: median step {med*1e3:.2f} ms (min {min(times)*1e3:.2f}) -> {ips:.1f} img/s,"
          f" ELBO-step forward {fl/1e6:.1f} MFLOP/image")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(dict(task=a.task, arch=a.arch, batch=B, median_s=med, min_s=min(times), img_per_s=ips,
                           fwd_flops=fl, threads=a.threads), f)


if __name__ == "__main__":
    main()
