package dev.shiftaddvit.io;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A file cannot be written: its directory is missing or read-only, it names a directory, or the
 * disk filled up. The message is {@code "cannot write <file>: <problem>"}; the target is left as it
 * was and no temporary file stays behind.
 */
public final class OutputFileException extends IOException {
    private static final long serialVersionUID = 1L;

    private final transient Path target;

    public OutputFileException(Path target, String problem, Throwable cause) {
        super("cannot write " + target + ": " + problem, cause);
        this.target = target;
    }

    /** The file that was to be written. */
    public Path target() {
        return target;
    }
}
