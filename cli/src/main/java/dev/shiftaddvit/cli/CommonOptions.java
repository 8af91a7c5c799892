package dev.shiftaddvit.cli;

import dev.shiftaddvit.kernel.Parallel;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** Options every compute command takes. */
final class CommonOptions {
    @Option(names = "--threads", description = "Worker threads (default: all cores).")
    Integer threads;

    @Option(names = "--data", description = "Fashion-MNIST directory (default: /usr/share/datasets/fashion-mnist).")
    Path data;

    void apply() {
        if (threads != null) {
            if (threads < 1) throw new IllegalArgumentException("--threads must be at least 1, got " + threads);
            if (threads > Parallel.MAX_THREADS) {
                throw new IllegalArgumentException("--threads must be at most " + Parallel.MAX_THREADS
                        + " (4 per core, at least 16), got " + threads);
            }
            Parallel.setThreads(threads);
        }
    }
}
