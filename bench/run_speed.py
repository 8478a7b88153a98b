#!/usr/bin/python3
"""Runs sq-speed-bench and torch_bench.py side by side, interleaved rep by rep, and prints the
comparison table of bench/README.md. Started by run_speed.sh, which sets up the environment.

Both workers stay alive for the whole run (models built and warmed up once), and take turns:
for each repetition, ours then PyTorch's, so that a load change on the machine hits both.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))

# Steps (training) and passes (inference) per timed repetition: a few hundred ms each.
WORK = {
    "mlp": {"train": 150, "sqtrain": 100, "infer": 400},
    "lenet5": {"train": 40, "sqtrain": 40, "infer": 100},
    "vgg-small": {"train": 3, "sqtrain": 3, "infer": 8},
}


class Worker:
    def __init__(self, name, argv, env):
        self.name = name
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env,
                                     bufsize=1)

    def ask(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline().strip()
        if not answer or answer.startswith("error"):
            raise RuntimeError("%s: '%s' -> %s" % (self.name, line, answer or "no answer (crashed?)"))
        return answer

    def close(self):
        try:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.close()
        except BrokenPipeError:
            pass
        self.proc.wait(timeout=30)


def spread(values):
    return statistics.median(values), min(values), max(values)


def fmt_rate(values):
    med, lo, hi = spread(values)
    return "%s (%s-%s)" % (human(med), human(lo), human(hi))


def human(x):
    if x >= 10000:
        return "%.0fk" % (x / 1000)
    if x >= 1000:
        return "%.1fk" % (x / 1000)
    return "%.0f" % x


def ratio(ours, theirs):
    # Ratio of medians, and the range of per-repetition ratios (each pair ran back to back).
    per_rep = [a / b for a, b in zip(ours, theirs)]
    return "%.2fx (%.2f-%.2f)" % (statistics.median(ours) / statistics.median(theirs), min(per_rep), max(per_rep))


def load_average():
    with open("/proc/loadavg") as f:
        return f.read().split()[0]


def mlp_macs(width):
    # Multiply-adds per image: forward F = 784 W + W^2 + 10 W; training adds the weight gradients
    # (F again) and the input gradients of the two upper layers (W^2 + 10 W), not of the first.
    forward = 784 * width + width * width + 10 * width
    return forward, 2 * forward + width * width + 10 * width


def timed(worker, kind, model, batch, count, reps):
    cmd = "%s %s %d %d" % (kind, model, batch, count)
    worker.ask(cmd)
    return [float(worker.ask(cmd)) / count for _ in range(reps)]


def scaling(ours, torch, reps):
    print("Cost against batch size (training step and inference pass, median of %d):" % reps)
    print()
    print("| model | batch | train ms/batch | train us/image | infer ms/batch | infer us/image "
          "| PyTorch train us/image | PyTorch infer us/image |")
    print("|---|---|---|---|---|---|---|---|")
    for model, base in (("mlp", 60), ("lenet5", 16), ("vgg-small", 1)):
        for batch in (32, 128, 512):
            steps = max(1, base * 128 // batch)
            cells = []
            for worker in filter(None, (ours, torch)):
                t = statistics.median(timed(worker, "train", model, batch, steps, reps))
                i = statistics.median(timed(worker, "infer", model, batch, max(1, 2 * steps), reps))
                if worker is ours:
                    cells += ["%.2f" % (t * 1e3), "%.1f" % (t * 1e6 / batch), "%.2f" % (i * 1e3),
                              "%.1f" % (i * 1e6 / batch)]
                else:
                    cells += ["%.1f" % (t * 1e6 / batch), "%.1f" % (i * 1e6 / batch)]
            if not torch:
                cells += ["-", "-"]
            print("| " + " | ".join([model, str(batch)] + cells) + " |")
    print()
    print("Cost against mlp hidden width W (batch 128; multiply-adds per image: forward 784W + W^2 + 10W):")
    print()
    print("| W | MACs/image forward | train ms/batch | train GFLOP/s | infer ms/batch | infer GFLOP/s "
          "| PyTorch train ms/batch | PyTorch infer ms/batch |")
    print("|---|---|---|---|---|---|---|---|")
    for width, steps in ((256, 60), (1024, 12), (4096, 2)):
        model = "mlp-%d" % width
        fwd, train = mlp_macs(width)
        t = statistics.median(timed(ours, "train", model, 128, steps, reps))
        i = statistics.median(timed(ours, "infer", model, 128, 2 * steps, reps))
        cells = [str(width), "%.2fM" % (fwd / 1e6), "%.2f" % (t * 1e3), "%.0f" % (2 * train * 128 / t / 1e9),
                 "%.2f" % (i * 1e3), "%.0f" % (2 * fwd * 128 / i / 1e9)]
        if torch:
            pt = statistics.median(timed(torch, "train", model, 128, steps, reps))
            pi = statistics.median(timed(torch, "infer", model, 128, 2 * steps, reps))
            cells += ["%.2f" % (pt * 1e3), "%.2f" % (pi * 1e3)]
        else:
            cells += ["-", "-"]
        print("| " + " | ".join(cells) + " |")
    print()
    print("load average after: %s" % load_average())


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ours", default=os.path.join(HERE, "..", "build", "release", "bench", "sq-speed-bench"))
    parser.add_argument("--models", default="mlp,lenet5,vgg-small")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--skip-torch", action="store_true", help="our figures only")
    parser.add_argument("--scaling", action="store_true",
                        help="instead of the comparison: cost against batch size and mlp width (ours, and "
                             "PyTorch's unless --skip-torch)")
    args = parser.parse_args()
    if args.reps < 5:
        parser.error("--reps: at least 5 (medians of 5 or more repetitions)")

    env = dict(os.environ)
    ours = Worker("sq-speed-bench", [args.ours, "--threads", str(args.threads)], env)
    torch = None
    if not args.skip_torch:
        torch = Worker("torch_bench.py", ["/usr/bin/python3", os.path.join(HERE, "torch_bench.py"), "--threads",
                                          str(args.threads)], env)
    print("ours:    " + ours.ask("info"))
    if torch:
        print("pytorch: " + torch.ask("info"))
    print("load average before: %s   batch %d, %d threads, %d repetitions after warm-up (median, min-max)"
          % (load_average(), args.batch, args.threads, args.reps))
    print()

    if args.scaling:
        scaling(ours, torch, args.reps)
        ours.close()
        if torch:
            torch.close()
        return 0

    b = args.batch
    rows = []
    for model in args.models.split(","):
        work = WORK[model]
        result = {}
        for kind in ("train", "sqtrain", "infer"):
            cmd = "%s %s %d %d" % (kind, model, b, work[kind])
            ours.ask(cmd)  # first use builds and warms up; one untimed repetition more
            if torch:
                torch.ask(cmd)
            mine, theirs = [], []
            for _ in range(args.reps):
                mine.append(b * work[kind] / float(ours.ask(cmd)))
                if torch:
                    theirs.append(b * work[kind] / float(torch.ask(cmd)))
            result[kind] = (mine, theirs)
        # The regularizer's and a snapshot's cost against the SQ training step measured just now.
        sq_step = b / statistics.median(result["sqtrain"][0])
        reg = [float(ours.ask("reg %s %d 50" % (model, b))) for _ in range(args.reps)]
        snap = [float(ours.ask("snapshot %s %d 10" % (model, b))) for _ in range(args.reps)]
        # A snapshot is built every 100 batches or 200 ms, whichever comes first (TrainConfig).
        between = min(100 * sq_step, 0.2)
        result["reg"] = [r / sq_step for r in reg]
        result["snap"] = [s / (between + s) for s in snap]
        result["reg_us"] = statistics.median(reg) * 1e6
        result["snap_ms"] = statistics.median(snap) * 1e3
        rows.append((model, result))

    print("| model | batch | train img/s ours | PyTorch | ratio | inference img/s ours | PyTorch | ratio "
          "| regularizer share of an SQ step | snapshot share of training |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for model, r in rows:
        def cols(kind):
            mine, theirs = r[kind]
            if not theirs:
                return [fmt_rate(mine), "-", "-"]
            return [fmt_rate(mine), fmt_rate(theirs), ratio(mine, theirs)]
        med, lo, hi = spread(r["reg"])
        reg = "%.1f%% (%.1f-%.1f), %.0f us" % (100 * med, 100 * lo, 100 * hi, r["reg_us"])
        med, lo, hi = spread(r["snap"])
        snap = "%.2f%% (%.2f-%.2f), %.2f ms each" % (100 * med, 100 * lo, 100 * hi, r["snap_ms"])
        print("| " + " | ".join([model, str(b)] + cols("train") + cols("infer") + [reg, snap]) + " |")
    print()
    print("SQ training (regularizer on; PyTorch: naive SQ regularizer in autograd):")
    print()
    print("| model | batch | SQ train img/s ours | PyTorch naive SQ | ratio |")
    print("|---|---|---|---|---|")
    for model, r in rows:
        mine, theirs = r["sqtrain"]
        cells = [fmt_rate(mine), fmt_rate(theirs) if theirs else "-", ratio(mine, theirs) if theirs else "-"]
        print("| " + " | ".join([model, str(b)] + cells) + " |")
    print()

    peak = ours.ask("peak").split()
    print("GEMM (the engine's product, %d threads) against the measured FP32 peak: %.0f GFLOP/s (%s FMA loop)"
          % (args.threads, float(peak[0]), peak[1]))
    print()
    print("| product (M x K) * (K x N) | GFLOP/s | share of peak |")
    print("|---|---|---|")
    for m, n, k, iters, what in ((128, 256, 784, 200, "mlp dense1 forward"),
                                 (64, 2048, 1152, 40, "vgg conv 128->128 (one chunk)"),
                                 (1024, 1024, 1024, 8, "square 1024"),
                                 (2048, 2048, 2048, 2, "square 2048")):
        g = [float(ours.ask("gemm %d %d %d %d" % (m, n, k, iters))) for _ in range(5)]
        med = statistics.median(g)
        print("| %d x %d x %d (%s) | %.0f | %.0f%% |" % (m, k, n, what, med, 100 * med / float(peak[0])))
    print()
    print("load average after: %s" % load_average())
    ours.close()
    if torch:
        torch.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
