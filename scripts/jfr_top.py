#!/usr/bin/env python3
"""Share of JFR execution samples per innermost project method (kernel or layer).

Usage: jfr print --events jdk.ExecutionSample rec.jfr > rec.txt; python3 scripts/jfr_top.py rec.txt [N]
Each sample is charged to the first frame from dev.shiftaddvit that is neither a lambda nor the
Parallel scheduler, so vector intrinsics and JDK helpers count toward the kernel that called them.
"""
import collections
import re
import sys


def main(path, top):
    counts = collections.Counter()
    total = 0
    for event in open(path).read().split('jdk.ExecutionSample'):
        frames = re.findall(r'^\s+([\w.$]+)\(', event, re.M)
        if not frames:
            continue
        total += 1
        ours = [f for f in frames if f.startswith('dev.shiftaddvit') and 'lambda' not in f and 'Parallel' not in f]
        counts[ours[0] if ours else frames[0]] += 1
    for name, n in counts.most_common(top):
        print(f"{100.0 * n / total:5.1f}% {name}")
    print(f"{total} samples")


if __name__ == '__main__':
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 20)
