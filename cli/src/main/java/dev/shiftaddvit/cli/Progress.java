package dev.shiftaddvit.cli;

import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

import java.io.PrintStream;
import java.time.Duration;

/**
 * A progress bar with ETA on a terminal; plain periodic lines when output goes to a file or CI log,
 * so logs stay readable. Always goes to stderr, keeping stdout for results and --json.
 */
final class Progress implements AutoCloseable {
    private final ProgressBar bar;
    private final String task;
    private final long max;
    private final PrintStream err = System.err;
    private final long started = System.nanoTime();
    private long lastLine = System.nanoTime();
    private final long initial;
    private long current;
    private String extra = "";

    Progress(String task, long max, long initial) {
        this.task = task;
        this.max = max;
        this.initial = initial;
        this.current = initial;
        this.bar = interactive() ? new ProgressBarBuilder().setTaskName(task).setInitialMax(max)
                .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(250).continuousUpdate()
                .setMaxRenderedLength(120).startsFrom(initial, Duration.ZERO).build() : null;
    }

    /**
     * A bar only where stderr is a terminal: the launcher says so in {@code shiftaddvit.progress}
     * ("tty" or "lines"), since Java cannot ask about stderr itself; without it, a terminal console.
     */
    private static boolean interactive() {
        String mode = System.getProperty("shiftaddvit.progress");
        if (mode != null) return mode.equals("tty");
        java.io.Console c = System.console();
        return c != null && c.isTerminal() && !"true".equals(System.getenv("CI"));
    }

    void step(long n, String message) {
        current += n;
        extra = message;
        if (bar != null) {
            bar.stepBy(n);
            bar.setExtraMessage(message);
        } else if (System.nanoTime() - lastLine > 30_000_000_000L || current == max) {
            lastLine = System.nanoTime();
            double secs = (lastLine - started) / 1e9;
            long done = current - initial;
            double eta = done > 0 ? (max - current) * secs / done : Double.NaN;
            err.printf("%s %d/%d %s (%.0f s, ETA %s)%n", task, current, max, extra, secs,
                    Double.isNaN(eta) ? "?" : String.format("%.0f s", eta));
        }
    }

    @Override
    public void close() {
        if (bar != null) bar.close();
    }
}
