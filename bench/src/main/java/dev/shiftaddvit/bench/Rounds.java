package dev.shiftaddvit.bench;

import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/**
 * Times several engines on one machine without letting them disturb each other. Every engine keeps
 * worker threads spinning for a while after a call (ONNX Runtime's intra-op pool, libtorch's OpenMP
 * team, our {@code Parallel} helpers), so alternating single calls of different engines makes each
 * one's spinning workers steal the cores from the next. Instead each engine is measured in its own
 * block (pause, warm-up, samples) per input, and the blocks are repeated in rounds whose order is
 * rotated, so a change of load on the shared machine hits every engine.
 */
final class Rounds {
    /** Pause before a block: longer than any engine's spin-before-park time. */
    static final long PAUSE_MS = GemmShootout.PAUSE_MS;

    /**
     * @param rounds   how many times every block runs
     * @param samples  timed calls per input over all rounds (split evenly, rounded up)
     * @param warmups  untimed calls per input at the start of each block
     */
    record Plan(int rounds, int[] samples, int[] warmups) {
        Plan {
            if (rounds < 1) throw new IllegalArgumentException("rounds must be >= 1, got " + rounds);
            if (samples.length != warmups.length) throw new IllegalArgumentException("samples and warm-ups per input differ");
            for (int s : samples) if (s < 1) throw new IllegalArgumentException("samples must be >= 1, got " + s);
        }

        int perRound(int input) {
            return (samples[input] + rounds - 1) / rounds;
        }
    }

    private Rounds() {
    }

    /** Seconds per call, [runner][input][sample]; progress gets one line per round. */
    static double[][][] measure(List<ModelRunner> runners, Plan plan, Consumer<String> progress) throws Exception {
        int n = runners.size();
        int inputs = plan.samples().length;
        double[][][] t = new double[n][inputs][];
        for (int r = 0; r < n; r++) for (int i = 0; i < inputs; i++) t[r][i] = new double[plan.perRound(i) * plan.rounds()];
        for (int round = 0; round < plan.rounds(); round++) {
            // Each round starts at a different part of the list.
            int offset = round * n / plan.rounds();
            for (int j = 0; j < n; j++) {
                int r = (j + offset) % n;
                ModelRunner runner = runners.get(r);
                for (int i = 0; i < inputs; i++) {
                    Thread.sleep(PAUSE_MS);
                    for (int w = 0; w < plan.warmups()[i]; w++) runner.run(i);
                    int k = plan.perRound(i);
                    for (int s = 0; s < k; s++) {
                        long t0 = System.nanoTime();
                        runner.run(i);
                        t[r][i][round * k + s] = (System.nanoTime() - t0) / 1e9;
                    }
                }
            }
            progress.accept("round " + (round + 1) + "/" + plan.rounds() + " done (load " + GemmShootout.uptime() + ")");
        }
        return t;
    }

    static double median(double[] t) {
        double[] s = t.clone();
        Arrays.sort(s);
        int m = s.length / 2;
        return s.length % 2 == 1 ? s[m] : (s[m - 1] + s[m]) / 2;
    }
}
