package dev.shiftaddvit.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Crash-safe file writing: the content goes to a temporary file in the target's directory, is
 * forced to disk, and is then renamed over the target with {@code ATOMIC_MOVE} (falling back to
 * {@code REPLACE_EXISTING} where the file system cannot rename atomically). On any failure the
 * temporary file is deleted and the target is left as it was.
 */
public final class AtomicFiles {
    private AtomicFiles() {}

    /** Writes the content of a file to an open channel. */
    @FunctionalInterface
    public interface ChannelWriter {
        void write(FileChannel channel) throws IOException;
    }

    /**
     * Writes {@code target} atomically with the given body. A failure to create, write or rename the
     * file is an {@link OutputFileException} naming the target. After a successful write, temporaries
     * of the same target left by earlier writes that were killed are removed.
     */
    public static void write(Path target, ChannelWriter body) throws IOException {
        Path dir = checkedDirectory(target);
        Path abs = target.toAbsolutePath();
        long started = System.currentTimeMillis();
        Path tmp = null;
        boolean done = false;
        try {
            FileChannel ch = null;
            for (int attempt = 0; ch == null; attempt++) {
                Path candidate = temporaryFor(abs);
                try {
                    ch = FileChannel.open(candidate, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
                    tmp = candidate;
                } catch (FileAlreadyExistsException e) {
                    if (attempt >= 16) throw e;
                }
            }
            try (FileChannel c = ch) {
                body.write(c);
                c.force(true);
            }
            try {
                Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
            }
            done = true;
            syncDirectory(dir);
        } catch (OutputFileException e) {
            throw e;
        } catch (IOException e) {
            throw new OutputFileException(target, problem(e), e);
        } finally {
            if (!done && tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // best effort: the original failure is what matters
                }
            }
        }
        removeStaleTemporaries(abs, started);
    }

    /**
     * Fails now, with the message a later {@link #write} would give, when {@code target} cannot be
     * written: it names a directory, its directory is missing, or a file cannot be created there.
     * Commands call it before long work so that a bad output path does not cost a training run.
     */
    public static void requireWritable(Path target) throws OutputFileException {
        checkedDirectory(target);
        Path probe = temporaryFor(target.toAbsolutePath());
        try {
            Files.delete(Files.createFile(probe));
        } catch (IOException e) {
            throw new OutputFileException(target, problem(e), e);
        }
    }

    /** Creates {@code dir} and its parents when missing; a failure is an {@link OutputFileException}. */
    public static void createDirectories(Path dir) throws OutputFileException {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new OutputFileException(dir, e instanceof FileAlreadyExistsException ? "exists and is not a directory"
                    : problem(e), e);
        }
    }

    private static Path checkedDirectory(Path target) throws OutputFileException {
        Path abs = target.toAbsolutePath();
        Path dir = abs.getParent();
        if (dir == null) throw new OutputFileException(target, "has no parent directory", null);
        if (Files.isDirectory(abs)) throw new OutputFileException(target, "is a directory", null);
        if (!Files.isDirectory(dir)) {
            throw new OutputFileException(target, "directory " + dir + (Files.exists(dir) ? " is not a directory"
                    : " does not exist"), null);
        }
        return dir;
    }

    private static Path temporaryFor(Path abs) {
        return abs.resolveSibling("." + abs.getFileName() + "."
                + Long.toHexString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE) + ".tmp");
    }

    /** What went wrong, without the path the exception repeats. */
    private static String problem(IOException e) {
        if (e instanceof AccessDeniedException) return "permission denied";
        if (e instanceof FileSystemException f && f.getReason() != null) return f.getReason();
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    /** Deletes {@code .NAME.<hex>.tmp} files of the target that are older than this write. */
    private static void removeStaleTemporaries(Path abs, long before) {
        String prefix = "." + abs.getFileName() + ".";
        try (DirectoryStream<Path> s = Files.newDirectoryStream(abs.getParent(), p -> isTemporary(p, prefix))) {
            for (Path p : s) {
                if (Files.getLastModifiedTime(p).toMillis() < before) Files.deleteIfExists(p);
            }
        } catch (IOException ignored) {
            // best effort: the write itself succeeded
        }
    }

    private static boolean isTemporary(Path p, String prefix) {
        String n = p.getFileName().toString();
        if (!n.startsWith(prefix) || !n.endsWith(".tmp") || n.length() <= prefix.length() + 4) return false;
        String hex = n.substring(prefix.length(), n.length() - 4);
        return hex.length() <= 16 && hex.chars().allMatch(c -> Character.digit(c, 16) >= 0);
    }

    /** Writes the bytes to {@code target} atomically. */
    public static void writeBytes(Path target, byte[] bytes) throws IOException {
        write(target, ch -> writeFully(ch, ByteBuffer.wrap(bytes)));
    }

    /** Writes the text as UTF-8 to {@code target} atomically. */
    public static void writeString(Path target, String text) throws IOException {
        writeBytes(target, text.getBytes(StandardCharsets.UTF_8));
    }

    /** Writes every remaining byte of the buffer. */
    public static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) ch.write(buf);
    }

    private static void syncDirectory(Path dir) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException | UnsupportedOperationException ignored) {
            // not every platform lets a directory be opened or synced; the rename is done anyway
        }
    }
}
