package dev.shiftaddvit.kernel;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What a measured figure depends on: the CPU model, the cores the JVM sees, the engine's thread
 * count and vector width. Printed beside every speed figure, because a ratio is comparable only
 * with ratios from the same kind of machine.
 */
public final class Machine {
    private Machine() {
    }

    /** The CPU model from /proc/cpuinfo, or the architecture where that file is absent. */
    public static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) return line.substring(line.indexOf(':') + 1).strip();
            }
        } catch (IOException | SecurityException ignored) {
            // not Linux, or not readable: the architecture is all we can say
        }
        return System.getProperty("os.arch");
    }

    /** One line, e.g. "AMD EPYC 7B13, 2 cores visible, 2 threads, 256-bit vectors (8 floats; preferred)". */
    public static String describe() {
        return cpuModel() + ", " + Runtime.getRuntime().availableProcessors() + " cores visible, "
                + Parallel.threads() + " threads, " + VectorWidth.describe();
    }
}
