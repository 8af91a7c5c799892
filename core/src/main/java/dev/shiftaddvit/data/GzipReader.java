package dev.shiftaddvit.data;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;
import java.util.zip.ZipException;

/**
 * A strict gzip (RFC 1952) decompressing stream. Unlike {@link java.util.zip.GZIPInputStream}, which
 * silently ignores bytes after the last member that do not form a gzip header, it rejects trailing
 * garbage; it verifies each member's CRC-32 and length and accepts concatenated members. Problems
 * are {@link ZipException}s or {@link EOFException}s (for a stream cut short).
 */
final class GzipReader extends InputStream {
    private static final int FHCRC = 2;
    private static final int FEXTRA = 4;
    private static final int FNAME = 8;
    private static final int FCOMMENT = 16;

    private final InputStream in;
    private final Inflater inflater = new Inflater(true);
    private final CRC32 crc = new CRC32();
    private final byte[] buf = new byte[1 << 16];
    private int pos;
    private int lim;
    private long memberSize;
    private boolean eof;
    private boolean closed;

    /** Reads the first member's header at once. */
    GzipReader(InputStream in) throws IOException {
        this.in = in;
        readHeader();
    }

    private int nextByte() throws IOException {
        if (pos == lim) {
            int n = in.read(buf, 0, buf.length);
            if (n <= 0) {
                if (n < 0) return -1;
                int b = in.read();
                if (b < 0) return -1;
                buf[0] = (byte) b;
                n = 1;
            }
            pos = 0;
            lim = n;
        }
        return buf[pos++] & 0xff;
    }

    private int requireByte(String where) throws IOException {
        int b = nextByte();
        if (b < 0) throw new EOFException("gzip stream ends inside the " + where);
        return b;
    }

    private void readHeader() throws IOException {
        int id1 = requireByte("header");
        int id2 = requireByte("header");
        if (id1 != 0x1f || id2 != 0x8b) throw new ZipException("not in gzip format");
        int method = requireByte("header");
        if (method != 8) throw new ZipException("unsupported gzip compression method " + method);
        int flags = requireByte("header");
        if ((flags & 0xe0) != 0) throw new ZipException("reserved gzip header flags set");
        for (int i = 0; i < 6; i++) requireByte("header"); // MTIME, XFL, OS
        if ((flags & FEXTRA) != 0) {
            int xlen = requireByte("header") | (requireByte("header") << 8);
            for (int i = 0; i < xlen; i++) requireByte("header extra field");
        }
        if ((flags & FNAME) != 0) {
            while (requireByte("header file name") != 0) {
                // skip the zero-terminated name
            }
        }
        if ((flags & FCOMMENT) != 0) {
            while (requireByte("header comment") != 0) {
                // skip the zero-terminated comment
            }
        }
        if ((flags & FHCRC) != 0) {
            requireByte("header");
            requireByte("header");
        }
        inflater.reset();
        crc.reset();
        memberSize = 0;
        if (pos < lim) inflater.setInput(buf, pos, lim - pos);
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (closed) throw new IOException("stream closed");
        java.util.Objects.checkFromIndexSize(off, len, b.length);
        if (len == 0) return 0;
        while (!eof) {
            int n;
            try {
                n = inflater.inflate(b, off, len);
            } catch (DataFormatException e) {
                throw new ZipException("invalid deflate data" + (e.getMessage() == null ? "" : ": " + e.getMessage()));
            }
            if (n > 0) {
                crc.update(b, off, n);
                memberSize += n;
                return n;
            }
            if (inflater.finished()) {
                pos = lim - inflater.getRemaining();
                finishMember();
            } else if (inflater.needsDictionary()) {
                throw new ZipException("deflate data needs a preset dictionary");
            } else if (inflater.needsInput()) {
                int r = in.read(buf, 0, buf.length);
                if (r < 0) throw new EOFException("gzip stream ends before the end of the compressed data");
                pos = 0;
                lim = r;
                inflater.setInput(buf, 0, r);
            }
        }
        return -1;
    }

    private void finishMember() throws IOException {
        long storedCrc = 0;
        for (int i = 0; i < 4; i++) storedCrc |= (long) requireByte("trailer") << (8 * i);
        long storedSize = 0;
        for (int i = 0; i < 4; i++) storedSize |= (long) requireByte("trailer") << (8 * i);
        if (storedCrc != crc.getValue()) throw new ZipException("gzip CRC-32 mismatch (corrupt data)");
        if (storedSize != (memberSize & 0xffffffffL)) throw new ZipException("gzip length mismatch (corrupt data)");
        int next = nextByte();
        if (next < 0) {
            eof = true;
            return;
        }
        pos--; // push back
        if (next != 0x1f) throw new ZipException("trailing garbage after the gzip stream");
        try {
            readHeader(); // another member
        } catch (ZipException e) {
            throw new ZipException("trailing garbage after the gzip stream (" + e.getMessage() + ")");
        }
    }

    @Override
    public void close() throws IOException {
        if (!closed) {
            closed = true;
            inflater.end();
            in.close();
        }
    }
}
