package dev.shiftaddvit.cli.report;

import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;

/** Number formatting shared by the tables and the plot labels; Locale.ROOT so a report reads the same everywhere. */
final class Numbers {
    static final String NA = "n/a";

    private Numbers() {
    }

    static String fixed(double v, int decimals) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%." + decimals + "f", v) : NA;
    }

    /**
     * Decimals that give about four significant digits at the magnitude of {@code largest}; formatting a
     * whole column with it keeps the decimal points aligned (12.50, 10.00, 9.00).
     */
    static int decimals(double largest) {
        if (!Double.isFinite(largest) || largest == 0) return 2;
        return Math.clamp(3 - (int) Math.floor(Math.log10(Math.abs(largest))), 0, 6);
    }

    /** The decimals of {@link #decimals(double)} for the largest finite value of a stage metric. */
    static int decimals(List<StageResult> stages, ToDoubleFunction<StageResult> metric) {
        return decimals(stages.stream().mapToDouble(metric).filter(Double::isFinite).map(Math::abs).max().orElse(0));
    }

    /** A difference with its sign always shown, then the suffix. */
    static String signed(double v, int decimals, String suffix) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%+." + decimals + "f", v) + suffix : NA;
    }

    /** How much more {@code a} is than {@code b}, in signed percent. */
    static String change(double a, double b) {
        return signed(100 * (a / b - 1), 1, " %");
    }

    /** {@code a / b} as "1.50×"; n/a where b is zero. */
    static String ratio(double a, double b) {
        double q = a / b;
        return Double.isFinite(q) ? fixed(q, 2) + "×" : NA;
    }

    /** How much less {@code a} is than {@code b}, in percent; negative when it is more. */
    static String saving(double a, double b) {
        double q = a / b;
        return Double.isFinite(q) ? fixed(100 * (1 - q), 1) + " %" : NA;
    }

    /** An operation count to three significant digits with a metric prefix: 950, 12.4 k, 4.10 M, 1.20 G. */
    static String count(long n) {
        if (n < 1_000) return Long.toString(n);
        double scale = n < 1_000_000 ? 1e3 : n < 1_000_000_000 ? 1e6 : 1e9;
        double v = n / scale;
        return fixed(v, v >= 100 ? 0 : v >= 10 ? 1 : 2) + (scale == 1e3 ? " k" : scale == 1e6 ? " M" : " G");
    }

    /** A size in binary units: 512 B, 12.3 KiB, 4.57 MiB. */
    static String bytes(long n) {
        if (n < 1024) return n + " B";
        if (n < 1024 * 1024) return fixed(n / 1024.0, 1) + " KiB";
        return fixed(n / (1024.0 * 1024), 2) + " MiB";
    }
}
