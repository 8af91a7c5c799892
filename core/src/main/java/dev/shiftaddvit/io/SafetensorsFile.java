package dev.shiftaddvit.io;

import dev.shiftaddvit.io.Safetensors.Dtype;
import dev.shiftaddvit.io.Safetensors.Entry;
import dev.shiftaddvit.tensor.Tensor;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An open, validated safetensors file, memory-mapped read-only through a shared {@link Arena}
 * (so tensors may be read from several threads). Close it to unmap; a tensor already returned
 * stays valid because it is a copy.
 */
public final class SafetensorsFile implements AutoCloseable {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int MAX_ARRAY = Integer.MAX_VALUE - 16;

    private final Path path;
    private final String source;
    private final Arena arena;
    private final MemorySegment data;
    private final long headerLength;
    private final List<Entry> entries;
    private final Map<String, Entry> byName;
    private final Map<String, String> metadata;

    private SafetensorsFile(Path path, Arena arena, MemorySegment data, long headerLength, Safetensors.Header header) {
        this.path = path;
        this.source = path.toString();
        this.arena = arena;
        this.data = data;
        this.headerLength = headerLength;
        this.entries = header.entries();
        this.metadata = header.metadata();
        LinkedHashMap<String, Entry> map = new LinkedHashMap<>();
        for (Entry e : entries) map.put(e.name(), e);
        this.byName = map;
    }

    /** Opens, maps and validates a file. See {@link Safetensors} for what is checked. */
    public static SafetensorsFile open(Path file) {
        String source = file.toString();
        if (!Files.exists(file)) throw new InvalidInputException(source, "file not found");
        if (!Files.isRegularFile(file)) throw new InvalidInputException(source, "not a regular file");
        Arena arena = Arena.ofShared();
        boolean ok = false;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) {
                throw new InvalidInputException(source, "file is " + size
                        + " bytes long, shorter than the 8-byte header length of a safetensors file");
            }
            ByteBuffer prefix = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            while (prefix.hasRemaining()) {
                if (ch.read(prefix, prefix.position()) < 0) {
                    throw new InvalidInputException(source, "file shrank while being read");
                }
            }
            long n = prefix.getLong(0);
            if (n < 0 || n > Safetensors.MAX_HEADER_BYTES) {
                throw new InvalidInputException(source, "header length " + Long.toUnsignedString(n)
                        + " is absurd (the limit is " + Safetensors.MAX_HEADER_BYTES + " bytes); not a safetensors file?");
            }
            if (n > size - 8) {
                throw new InvalidInputException(source, "header length " + n + " goes beyond the end of the file ("
                        + (size - 8) + " bytes after the length prefix)");
            }
            MemorySegment all = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            String json = decodeUtf8(all.asSlice(8, n).asByteBuffer(), source);
            long dataLength = size - 8 - n;
            Safetensors.Header header = Safetensors.parseHeader(json, dataLength, source);
            SafetensorsFile f = new SafetensorsFile(file, arena, all.asSlice(8 + n, dataLength), n, header);
            ok = true;
            return f;
        } catch (IOException e) {
            throw new InvalidInputException(source, "cannot read: " + e, e);
        } catch (InternalError e) {
            throw new InvalidInputException(source, "file changed or was truncated while being read", e);
        } finally {
            if (!ok) arena.close();
        }
    }

    private static String decodeUtf8(ByteBuffer bytes, String source) {
        CharsetDecoder dec = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        CharBuffer out = CharBuffer.allocate(bytes.remaining());
        CoderResult r = dec.decode(bytes, out, true);
        if (r.isError()) {
            throw new InvalidInputException(source, "header is not valid UTF-8 (bad byte at header offset "
                    + bytes.position() + ")");
        }
        r = dec.flush(out);
        if (r.isError()) throw new InvalidInputException(source, "header is not valid UTF-8");
        return out.flip().toString();
    }

    public Path path() {
        return path;
    }

    /** Length in bytes of the JSON header (without the 8-byte prefix, with padding). */
    public long headerLength() {
        return headerLength;
    }

    /** Length of the data buffer in bytes. */
    public long dataLength() {
        return data.byteSize();
    }

    /** The tensors in header order. */
    public List<Entry> entries() {
        return entries;
    }

    /** The tensor names in header order. */
    public Set<String> names() {
        return byName.keySet();
    }

    /** The {@code __metadata__} map, empty when the file has none. */
    public Map<String, String> metadata() {
        return metadata;
    }

    public boolean contains(String name) {
        return byName.containsKey(name);
    }

    /** The entry of a tensor; a missing tensor is an {@link InvalidInputException}. */
    public Entry entry(String name) {
        Entry e = byName.get(name);
        if (e == null) throw new InvalidInputException(source, "no tensor named \"" + name + "\"");
        return e;
    }

    /** A read-only view of a tensor's bytes in the mapped file; valid until {@link #close()}. */
    public MemorySegment segment(String name) {
        Entry e = entry(name);
        return data.asSlice(e.begin(), e.byteLength()).asReadOnly();
    }

    /**
     * A tensor converted to float: F32, F16, BF16 and F64 are accepted; other dtypes are an
     * {@link InvalidInputException} (read those with {@link #rawBytes(String)}).
     */
    public Tensor tensor(String name) {
        Entry e = entry(name);
        Dtype dtype = e.type();
        if (!dtype.isFloatConvertible()) {
            throw new InvalidInputException(source, "tensor \"" + name + "\" has dtype " + e.dtype()
                    + ", not a float type (F32, F16, BF16, F64)");
        }
        long count = e.elementCount();
        if (count > MAX_ARRAY) {
            throw new InvalidInputException(source, "tensor \"" + name + "\" has " + count
                    + " elements, more than one float array can hold");
        }
        int n = (int) count;
        float[] out = new float[n];
        try {
            MemorySegment seg = data.asSlice(e.begin(), e.byteLength());
            switch (dtype) {
                case F32 -> MemorySegment.copy(seg, F32, 0, out, 0, n);
                case F64 -> {
                    for (int i = 0; i < n; i++) out[i] = (float) seg.getAtIndex(F64, i);
                }
                case F16 -> {
                    for (int i = 0; i < n; i++) out[i] = Float.float16ToFloat(seg.getAtIndex(I16, i));
                }
                case BF16 -> {
                    for (int i = 0; i < n; i++) out[i] = Float.intBitsToFloat((seg.getAtIndex(I16, i) & 0xffff) << 16);
                }
                default -> throw new AssertionError(dtype);
            }
        } catch (InternalError err) {
            throw new InvalidInputException(source, "file changed or was truncated while reading tensor \"" + name + "\"", err);
        }
        return Tensor.of(out, e.shape());
    }

    /** A float tensor that must have the given shape (else an {@link InvalidInputException}). */
    public Tensor tensor(String name, int... expectedShape) {
        Entry e = entry(name);
        if (!Arrays.equals(e.shape(), expectedShape)) {
            throw new InvalidInputException(source, "tensor \"" + name + "\": expected shape " + Arrays.toString(expectedShape)
                    + " but the file has " + Arrays.toString(e.shape()));
        }
        return tensor(name);
    }

    /** The little-endian bytes of a tensor of any dtype (meant for I8, U8, I16, I32, I64, BOOL...). */
    public byte[] rawBytes(String name) {
        Entry e = entry(name);
        if (e.byteLength() > MAX_ARRAY) {
            throw new InvalidInputException(source, "tensor \"" + name + "\" has " + e.byteLength()
                    + " bytes, more than one array can hold");
        }
        try {
            return data.asSlice(e.begin(), e.byteLength()).toArray(ValueLayout.JAVA_BYTE);
        } catch (InternalError err) {
            throw new InvalidInputException(source, "file changed or was truncated while reading tensor \"" + name + "\"", err);
        }
    }

    /** Unmaps the file. Segments from {@link #segment(String)} become invalid. */
    @Override
    public void close() {
        if (arena.scope().isAlive()) arena.close();
    }

    @Override
    public String toString() {
        return "SafetensorsFile[" + source + ", " + entries.size() + " tensors]";
    }
}
