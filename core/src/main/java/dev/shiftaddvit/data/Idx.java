package dev.shiftaddvit.data;

import dev.shiftaddvit.io.AtomicFiles;
import dev.shiftaddvit.io.InvalidInputException;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Objects;
import java.util.zip.GZIPOutputStream;
import java.util.zip.ZipException;

/**
 * The IDX format of MNIST and Fashion-MNIST, unsigned-byte variant: a big-endian magic
 * {@code 0x0000TTRR} (TT = element type, 0x08 for unsigned byte; RR = rank), one big-endian int32
 * per dimension, then the data in C order. Files may be raw or gzip-compressed; gzip is detected by
 * its magic bytes {@code 1f 8b}, never by the file name.
 *
 * <p>The reader checks magic, type, rank, dimensions (positive, product not overflowing and within
 * a byte cap) and that the data has exactly the declared length: truncated data and trailing bytes
 * are both rejected, and so are bytes after the end of the gzip stream. It never allocates from the declared size before that size has passed the cap,
 * and for compressed or streamed input it grows its buffer only as data actually arrives, so a
 * small file claiming a huge size fails fast at its real end. A caller that needs only the first
 * items passes {@code maxItems}: the header is checked whole, but no more than those items are
 * inflated or read, so a gzip bomb costs what the caller asked for. All problems are
 * {@link InvalidInputException}s naming the source.
 */
public final class Idx {
    /** Magic of an unsigned-byte rank-1 file (labels). */
    public static final int MAGIC_UBYTE_1D = 0x00000801;
    /** Magic of an unsigned-byte rank-3 file (images). */
    public static final int MAGIC_UBYTE_3D = 0x00000803;
    /** The unsigned-byte element type. */
    public static final int TYPE_UBYTE = 0x08;
    /** The largest data size the reader accepts (the largest byte array). */
    public static final long MAX_DATA_BYTES = Integer.MAX_VALUE - 16;
    /** The highest rank the reader accepts. */
    public static final int MAX_RANK = 8;

    private static final int INITIAL_CHUNK = 1 << 20;

    private Idx() {}

    /**
     * The content of an unsigned-byte IDX file, or of its first items: {@code dims[0]} is the number
     * of items read, {@code declaredCount} the number the header declares. The arrays are not copied.
     */
    public record IdxData(int[] dims, byte[] data, String source, int declaredCount) {
        public IdxData {
            Objects.requireNonNull(dims);
            Objects.requireNonNull(data);
        }

        public int rank() {
            return dims.length;
        }

        /** The first dimension: the number of items. */
        public int count() {
            return dims[0];
        }

        @Override
        public String toString() {
            return "IdxData" + Arrays.toString(dims) + " from " + source;
        }
    }

    // ------------------------------------------------------------------------------------ reading

    /** Reads an unsigned-byte IDX file of any rank. */
    public static IdxData read(Path file) {
        return read(file, 0, MAX_DATA_BYTES);
    }

    /** Reads a rank-3 unsigned-byte file (magic 0x00000803): [count, rows, cols]. */
    public static IdxData readImages(Path file) {
        return read(file, 3, MAX_DATA_BYTES);
    }

    /**
     * Reads a rank-1 unsigned-byte file (magic 0x00000801) and, when {@code numClasses > 0}, checks
     * every label is below it.
     */
    public static byte[] readLabels(Path file, int numClasses) {
        IdxData d = read(file, 1, MAX_DATA_BYTES);
        checkLabels(d.data(), numClasses, d.source());
        return d.data();
    }

    /** Rejects any label ≥ numClasses (labels are unsigned); numClasses ≤ 0 checks nothing. */
    public static void checkLabels(byte[] labels, int numClasses, String source) {
        if (numClasses <= 0) return;
        for (int i = 0; i < labels.length; i++) {
            int l = labels[i] & 0xff;
            if (l >= numClasses) {
                throw new InvalidInputException(source, "label " + l + " at index " + i + " is outside [0, " + numClasses + ")");
            }
        }
    }

    /**
     * Reads a file, raw or gzip.
     *
     * @param expectedRank the required rank, or 0 for any rank in 1..{@value #MAX_RANK}
     * @param maxBytes the largest data size accepted (at most {@link #MAX_DATA_BYTES})
     */
    public static IdxData read(Path file, int expectedRank, long maxBytes) {
        return read(file, expectedRank, maxBytes, Integer.MAX_VALUE);
    }

    /**
     * Reads the first {@code maxItems} items of a file (all when it holds fewer); the header,
     * including the declared size against {@code maxBytes}, is checked as for a whole read.
     */
    public static IdxData read(Path file, int expectedRank, long maxBytes, int maxItems) {
        String source = file.toString();
        if (!Files.exists(file)) throw new InvalidInputException(source, "file not found");
        if (!Files.isRegularFile(file)) throw new InvalidInputException(source, "not a regular file");
        try (InputStream in = Files.newInputStream(file)) {
            return read(in, source, expectedRank, maxBytes, maxItems, Files.size(file));
        } catch (IOException e) {
            throw new InvalidInputException(source, "cannot read: " + e, e);
        }
    }

    /** Reads from a stream (raw or gzip) that the caller closes. */
    public static IdxData read(InputStream in, String source, int expectedRank, long maxBytes) {
        return read(in, source, expectedRank, maxBytes, Integer.MAX_VALUE, -1);
    }

    private static IdxData read(InputStream raw, String source, int expectedRank, long maxBytes, int maxItems,
            long rawSize) {
        if (maxItems < 1) throw new IllegalArgumentException("maxItems must be positive, got " + maxItems);
        long cap = Math.min(maxBytes, MAX_DATA_BYTES);
        try {
            BufferedInputStream buffered = new BufferedInputStream(raw, 1 << 16);
            buffered.mark(2);
            int b0 = buffered.read();
            int b1 = b0 < 0 ? -1 : buffered.read();
            buffered.reset();
            if (b0 < 0) throw new InvalidInputException(source, "empty file");
            boolean gzip = b0 == 0x1f && b1 == 0x8b;
            InputStream in = gzip ? new GzipReader(buffered) : buffered;
            String kind = gzip ? "decompressed data" : "file";

            byte[] magicBytes = readHeaderBytes(in, 4, source, kind, "magic number");
            int magic = bigEndianInt(magicBytes, 0);
            if ((magic >>> 16) != 0) {
                throw new InvalidInputException(source, String.format(
                        "bad magic 0x%08x: not an IDX file (expected 0x%08x for images or 0x%08x for labels)",
                        magic, MAGIC_UBYTE_3D, MAGIC_UBYTE_1D));
            }
            int type = (magic >>> 8) & 0xff;
            int rank = magic & 0xff;
            if (type != TYPE_UBYTE) {
                String name = typeName(type);
                throw new InvalidInputException(source, String.format(
                        "magic 0x%08x has element type 0x%02x (%s); only unsigned byte (0x08) is supported",
                        magic, type, name == null ? "not an IDX type" : name));
            }
            if (expectedRank > 0 && rank != expectedRank) {
                throw new InvalidInputException(source, String.format(
                        "magic 0x%08x declares rank %d but rank %d is required (magic 0x%08x)",
                        magic, rank, expectedRank, 0x0800 | expectedRank));
            }
            if (rank < 1 || rank > MAX_RANK) {
                throw new InvalidInputException(source, String.format(
                        "magic 0x%08x declares rank %d; ranks 1..%d are supported", magic, rank, MAX_RANK));
            }
            byte[] dimBytes = readHeaderBytes(in, 4 * rank, source, kind, "dimensions");
            int[] dims = new int[rank];
            long size = 1;
            boolean overflow = false;
            for (int i = 0; i < rank; i++) {
                int d = bigEndianInt(dimBytes, 4 * i);
                if (d <= 0) {
                    throw new InvalidInputException(source, "dimension " + i + " is " + Integer.toUnsignedString(d)
                            + (d < 0 ? " (negative as int32)" : "") + "; dimensions must be positive");
                }
                dims[i] = d;
                if (!overflow) {
                    try {
                        size = Math.multiplyExact(size, d);
                    } catch (ArithmeticException e) {
                        overflow = true;
                    }
                }
            }
            if (overflow || size > cap) {
                throw new InvalidInputException(source, "dimensions " + Arrays.toString(dims) + " declare "
                        + (overflow ? "more than 2^63" : String.valueOf(size)) + " bytes of data, more than the limit of "
                        + cap + " bytes");
            }
            long headerSize = 4 + 4L * rank;
            if (!gzip && rawSize >= 0) {
                long actual = rawSize - headerSize;
                if (actual < size) {
                    throw new InvalidInputException(source, "truncated: dimensions " + Arrays.toString(dims) + " declare "
                            + size + " data bytes but the file holds only " + actual);
                }
                if (actual > size) {
                    throw new InvalidInputException(source, (actual - size) + " trailing bytes after the " + size
                            + " data bytes declared by dimensions " + Arrays.toString(dims));
                }
            }
            int items = Math.min(dims[0], maxItems);
            int wanted = (int) (size / dims[0] * items);
            byte[] data = readExactly(in, wanted, size, !gzip && rawSize >= 0, source, kind, dims);
            // Only a whole read looks past the data; a partial one stops where the caller's items end.
            if (items == dims[0] && in.read() >= 0) {
                throw new InvalidInputException(source, "trailing bytes in the " + kind + " after the " + size
                        + " data bytes declared by dimensions " + Arrays.toString(dims));
            }
            int[] readDims = dims.clone();
            readDims[0] = items;
            return new IdxData(readDims, data, source, dims[0]);
        } catch (ZipException | EOFException e) {
            throw new InvalidInputException(source, "corrupt or truncated gzip data: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new InvalidInputException(source, "cannot read: " + e, e);
        }
    }

    private static String typeName(int type) {
        return switch (type) {
            case 0x08 -> "unsigned byte";
            case 0x09 -> "signed byte";
            case 0x0B -> "short";
            case 0x0C -> "int";
            case 0x0D -> "float";
            case 0x0E -> "double";
            default -> null;
        };
    }

    private static int bigEndianInt(byte[] b, int off) {
        return ((b[off] & 0xff) << 24) | ((b[off + 1] & 0xff) << 16) | ((b[off + 2] & 0xff) << 8) | (b[off + 3] & 0xff);
    }

    private static byte[] readHeaderBytes(InputStream in, int n, String source, String kind, String what) throws IOException {
        byte[] b = new byte[n];
        int got = in.readNBytes(b, 0, n);
        if (got < n) {
            throw new InvalidInputException(source, "truncated header: the " + kind + " ends inside the " + what
                    + " (" + got + " of " + n + " bytes)");
        }
        return b;
    }

    /**
     * Reads exactly n of the {@code declared} data bytes. Unless the size was already checked
     * against the file length ({@code sizeChecked}), the buffer grows only as data arrives.
     */
    private static byte[] readExactly(InputStream in, int n, long declared, boolean sizeChecked, String source,
            String kind, int[] dims) throws IOException {
        byte[] buf = new byte[sizeChecked ? n : Math.min(n, INITIAL_CHUNK)];
        int filled = 0;
        while (filled < n) {
            if (filled == buf.length) {
                buf = Arrays.copyOf(buf, (int) Math.min(n, 2L * buf.length));
            }
            int r = in.read(buf, filled, buf.length - filled);
            if (r < 0) {
                throw new InvalidInputException(source, "truncated: dimensions " + Arrays.toString(dims) + " declare "
                        + declared + " data bytes but the " + kind + " ends after " + filled);
            }
            filled += r;
        }
        return buf;
    }

    // ------------------------------------------------------------------------------------ writing

    /** Writes an unsigned-byte IDX file atomically, gzip-compressed when asked. */
    public static void write(Path file, int[] dims, byte[] data, boolean gzip) throws IOException {
        checkWritable(dims, data);
        AtomicFiles.write(file, ch -> {
            OutputStream os = new BufferedOutputStream(Channels.newOutputStream(ch), 1 << 16);
            writeTo(os, dims, data, gzip);
            os.flush();
        });
    }

    /** The bytes of an unsigned-byte IDX file, gzip-compressed when asked. */
    public static byte[] encode(int[] dims, byte[] data, boolean gzip) {
        checkWritable(dims, data);
        ByteArrayOutputStream bos = new ByteArrayOutputStream(data.length / (gzip ? 2 : 1) + 64);
        try {
            writeTo(bos, dims, data, gzip);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        return bos.toByteArray();
    }

    private static void checkWritable(int[] dims, byte[] data) {
        if (dims.length < 1 || dims.length > MAX_RANK) throw new IllegalArgumentException("rank " + dims.length);
        long size = 1;
        for (int d : dims) {
            if (d <= 0) throw new IllegalArgumentException("dimensions must be positive: " + Arrays.toString(dims));
            size *= d;
            if (size > MAX_DATA_BYTES) throw new IllegalArgumentException("too large: " + Arrays.toString(dims));
        }
        if (size != data.length) {
            throw new IllegalArgumentException(data.length + " bytes do not match dimensions " + Arrays.toString(dims));
        }
    }

    /** Writes header and data; finishes (does not close) the gzip stream. */
    private static void writeTo(OutputStream os, int[] dims, byte[] data, boolean gzip) throws IOException {
        GZIPOutputStream gz = gzip ? new GZIPOutputStream(os, 1 << 16) : null;
        DataOutputStream out = new DataOutputStream(gz != null ? gz : os);
        out.writeInt((TYPE_UBYTE << 8) | dims.length);
        for (int d : dims) out.writeInt(d);
        out.write(data);
        out.flush();
        if (gz != null) gz.finish();
    }
}
