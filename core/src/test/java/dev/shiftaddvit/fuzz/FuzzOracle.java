package dev.shiftaddvit.fuzz;

import dev.shiftaddvit.io.InvalidInputException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The property every fuzz target of this package checks: a reader given arbitrary bytes either
 * returns or throws an {@link InvalidInputException} that names the input, and allocates no more
 * than a bound proportional to the input (so that no size field makes it allocate what the file
 * does not hold). Anything else (an index, arithmetic, null-pointer or JDK argument exception, an
 * {@link OutOfMemoryError}, a failed bound) escapes and is a finding. Hangs are caught by the
 * {@code @Timeout} of each target: per seed in regression mode, and per input when fuzzing
 * (Jazzer passes it to libFuzzer as {@code -timeout}).
 */
final class FuzzOracle {
    /** Fixed allowance for class loading, decoder tables, JSON maps and the like. */
    static final long BASE_ALLOWANCE = 64L << 20;

    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private FuzzOracle() {}

    /** Something that reads one input and may throw. */
    interface Reader {
        void read() throws Exception;
    }

    /**
     * Runs {@code reader}; an {@link InvalidInputException} must name {@code source}; the bytes
     * allocated by this thread must stay within {@code allocationLimit}.
     */
    static void check(String source, long allocationLimit, Reader reader) throws Exception {
        long used = run(source, reader);
        // The first run of a path also loads (and, when fuzzing, instruments) classes on this
        // thread; only an input that is over the bound a second time is a finding.
        if (used > allocationLimit) used = Math.min(used, run(source, reader));
        if (used > allocationLimit) {
            throw new AssertionError("reading " + source + " allocated " + used + " bytes, more than the bound of "
                    + allocationLimit + " bytes for this input");
        }
    }

    /** Bytes allocated by the current thread so far (a running total). */
    static long allocatedBytes() {
        return THREADS.getCurrentThreadAllocatedBytes();
    }

    private static long run(String source, Reader reader) throws Exception {
        long before = allocatedBytes();
        try {
            reader.read();
        } catch (InvalidInputException e) {
            if (!source.equals(e.source())) {
                throw new AssertionError("InvalidInputException names \"" + e.source() + "\", not the input \"" + source + "\"", e);
            }
        }
        return allocatedBytes() - before;
    }

    /** A temporary file, deleted when the JVM exits, that each run overwrites with its input. */
    static Path scratchFile(String suffix) {
        try {
            Path p = Files.createTempFile("shiftaddvit-fuzz-", suffix);
            p.toFile().deleteOnExit();
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
