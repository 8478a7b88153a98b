#!/usr/bin/python3
"""PyTorch's side of the speed comparison (bench/README.md): the same models, synthetic data,
batch size and optimizer as sq-speed-bench, serving the same timing requests on stdin:

  train MODEL BATCH STEPS     seconds for STEPS training steps (SGD momentum 0.9, lr 0.01)
  sqtrain MODEL BATCH STEPS   the same with a naive SQ regularizer in autograd (SPEC section 1)
  infer MODEL BATCH ITERS     seconds for ITERS inference forward passes of one batch
  info                        torch version, threads and BLAS
  quit

Run it with Debian's own interpreter (/usr/bin/python3) and Debian's python3-torch; run_speed.sh
sets up its best configuration (OpenBLAS with OpenMP, SkylakeX kernels, 2 threads, no malloc trim).
"""
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

BETA_MIN = math.pi / 4
BETA_MAX = math.pi / 2 - 1e-3
BETA_INIT = 3 * math.pi / 8 + 0.01


def make_model(name):
    # SPEC section 5, exactly: every Dense and Conv2D has a bias; BatchNorm as PyTorch's default.
    if name == "mlp" or name.startswith("mlp-"):
        w = 256 if name == "mlp" else int(name[4:])  # mlp-W: hidden width W (scaling runs)
        return nn.Sequential(
            nn.Flatten(),
            nn.Linear(784, w), nn.BatchNorm1d(w), nn.ReLU(),
            nn.Linear(w, w), nn.BatchNorm1d(w), nn.ReLU(),
            nn.Linear(w, 10))
    if name == "lenet5":
        return nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(400, 120), nn.ReLU(),
            nn.Linear(120, 84), nn.ReLU(),
            nn.Linear(84, 10))
    if name == "vgg-small":
        layers = []
        cin = 3
        for c in (64, 128, 256):
            for _ in range(2):
                layers += [nn.Conv2d(cin, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU()]
                cin = c
            layers.append(nn.MaxPool2d(2))
        layers += [nn.Flatten(), nn.Linear(4096, 10)]
        return nn.Sequential(*layers)
    raise ValueError("unknown model " + name)


def input_shape(name):
    return (3, 32, 32) if name == "vgg-small" else (1, 28, 28)


class Bench:
    """One model, its optimizer and synthetic data, warmed up."""

    def __init__(self, name, batch, sq):
        torch.manual_seed(0)
        self.model = make_model(name)
        self.batch = batch
        batches = 16 if name == "vgg-small" else 64
        self.images = torch.randn(batch * batches, *input_shape(name))
        self.labels = torch.randint(0, 10, (batch * batches,))
        self.order = torch.randperm(self.images.shape[0])
        self.position = 0
        params = list(self.model.parameters())
        self.sq = sq
        if sq:
            # Per quantized layer (every Linear and Conv2d weight): alpha = mean|w|, beta.
            self.weights = [m.weight for m in self.model.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]
            self.alphas = [nn.Parameter(w.detach().abs().mean().reshape(1)) for w in self.weights]
            self.betas = [nn.Parameter(torch.full((1,), BETA_INIT)) for _ in self.weights]
            params += self.alphas + self.betas
        self.optimizer = torch.optim.SGD(params, lr=0.01, momentum=0.9)
        self.eval_input = self.images[:batch].clone()
        for _ in range(3):
            self.step()
        for _ in range(3):
            self.infer()

    def regularizer(self, lam=1.0, gamma=3e-3):
        # R_l = mean(min(| |w| - alpha |^2, tan(beta) |w|^2)) / sg(alpha)^2 + gamma cot(beta), p = 2
        total = 0.0
        for w, alpha, beta in zip(self.weights, self.alphas, self.betas):
            a = w.abs()
            t = torch.tan(beta)
            r = torch.minimum((a - alpha) ** 2, t * a ** 2)
            total = total + r.mean() / alpha.detach() ** 2 + gamma / t
        return lam * total

    def step(self):
        n = self.images.shape[0]
        if self.position + self.batch > n:
            self.order = torch.randperm(n)
            self.position = 0
        idx = self.order[self.position:self.position + self.batch]
        self.position += self.batch
        x = self.images[idx]
        y = self.labels[idx]
        self.model.train()
        self.optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(self.model(x), y)
        if self.sq:
            loss = loss + self.regularizer()
        loss.backward()
        self.optimizer.step()
        if self.sq:
            with torch.no_grad():
                for alpha, beta in zip(self.alphas, self.betas):
                    alpha.clamp_(min=1e-8)
                    beta.clamp_(BETA_MIN, BETA_MAX)

    def infer(self):
        self.model.eval()
        with torch.inference_mode():
            return self.model(self.eval_input)


BENCHES = {}


def bench(name, batch, sq=False):
    key = (name, batch, sq)
    if key not in BENCHES:
        BENCHES[key] = Bench(name, batch, sq)
    return BENCHES[key]


def handle(line):
    parts = line.split()
    cmd = parts[0]
    if cmd in ("train", "sqtrain", "infer"):
        name, batch, count = parts[1], int(parts[2]), int(parts[3])
        b = bench(name, batch, cmd == "sqtrain")
        start = time.perf_counter()
        for _ in range(count):
            if cmd == "infer":
                b.infer()
            else:
                b.step()
        return "%.9f" % (time.perf_counter() - start)
    if cmd == "info":
        cfg = torch.__config__.parallel_info().splitlines()
        threads = [c.strip() for c in cfg if "at::get_num_threads" in c]
        return "torch=%s %s mkldnn=%s" % (torch.__version__, threads[0] if threads else "",
                                          torch.backends.mkldnn.is_available())
    return "error: unknown request '%s'" % cmd


def main():
    threads = 2
    args = sys.argv[1:]
    if len(args) == 2 and args[0] == "--threads":
        threads = int(args[1])
    elif args:
        print("usage: torch_bench.py [--threads N]   (requests on stdin)", file=sys.stderr)
        return 2
    torch.set_num_threads(threads)
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        if line == "quit":
            break
        try:
            answer = handle(line)
        except Exception as e:  # reported to the driver, which stops
            answer = "error: %s" % e
        print(answer, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
