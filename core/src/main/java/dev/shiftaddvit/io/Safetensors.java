package dev.shiftaddvit.io;

import dev.shiftaddvit.tensor.Tensor;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The safetensors format: an 8-byte little-endian header length N, N bytes of UTF-8 JSON header
 * (an object mapping tensor names to {@code {"dtype", "shape", "data_offsets": [begin, end)}} with
 * offsets relative to the data buffer, plus an optional {@code "__metadata__"} string→string map),
 * then the data buffer, row-major and little-endian.
 *
 * <p>Reading ({@link #read(Path)}) validates the whole header before any tensor is touched: header
 * size (≤ {@value #MAX_HEADER_BYTES} bytes and inside the file), UTF-8, JSON object, dtypes, shapes
 * (non-negative, no overflow), offsets (two integers, begin ≤ end ≤ buffer length, byte length =
 * elements × dtype size), and that the tensors tile the data buffer exactly, with neither overlaps
 * nor holes (the reference implementation rejects both). Every problem is an
 * {@link InvalidInputException} naming the file.
 *
 * <p>Writing is atomic (see {@link AtomicFiles}), in the order given, with the header padded with
 * spaces to a multiple of 8 bytes as the reference writer does.
 */
public final class Safetensors {
    /** The largest header the reader accepts, as in the reference implementation. */
    public static final long MAX_HEADER_BYTES = 100_000_000L;
    /** The reserved header key holding the string→string metadata. */
    public static final String METADATA_KEY = "__metadata__";

    private Safetensors() {}

    /** The element types of the format, with their sizes in bits. */
    public enum Dtype {
        BOOL(8), U8(8), I8(8), F8_E5M2(8), F8_E4M3(8), F8_E8M0(8),
        I16(16), U16(16), F16(16), BF16(16),
        I32(32), U32(32), F32(32),
        I64(64), U64(64), F64(64), C64(64),
        F4(4), F6_E2M3(6), F6_E3M2(6);

        private final int bits;

        Dtype(int bits) {
            this.bits = bits;
        }

        public int bits() {
            return bits;
        }

        /** Whether {@link SafetensorsFile#tensor(String)} converts this type to float. */
        public boolean isFloatConvertible() {
            return this == F32 || this == F16 || this == BF16 || this == F64;
        }

        /** The dtype with that exact (upper-case) name, or null. */
        public static Dtype byName(String name) {
            for (Dtype d : values()) {
                if (d.name().equals(name)) return d;
            }
            return null;
        }
    }

    /**
     * One tensor of a file, as its header describes it. {@code begin}/{@code end} are byte offsets
     * into the data buffer, end exclusive.
     */
    public record Entry(String name, String dtype, int[] shape, long begin, long end) {
        public Entry {
            Objects.requireNonNull(name);
            Objects.requireNonNull(dtype);
            shape = shape.clone();
        }

        @Override
        public int[] shape() {
            return shape.clone();
        }

        public int rank() {
            return shape.length;
        }

        /** Number of elements (product of the shape; 1 for rank 0). */
        public long elementCount() {
            long n = 1;
            for (int d : shape) n *= d;
            return n;
        }

        public long byteLength() {
            return end - begin;
        }

        public Dtype type() {
            return Dtype.byName(dtype);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Entry e && name.equals(e.name) && dtype.equals(e.dtype)
                    && Arrays.equals(shape, e.shape) && begin == e.begin && end == e.end;
        }

        @Override
        public int hashCode() {
            return Objects.hash(name, dtype, Arrays.hashCode(shape), begin, end);
        }

        @Override
        public String toString() {
            return name + " " + dtype + Arrays.toString(shape) + " @[" + begin + ", " + end + ")";
        }
    }

    /** The validated content of a header. */
    record Header(List<Entry> entries, Map<String, String> metadata) {}

    // ------------------------------------------------------------------------------------ reading

    /** Opens and validates a file; the caller closes it. */
    public static SafetensorsFile read(Path file) {
        return SafetensorsFile.open(file);
    }

    /**
     * Reads every tensor of a file as float (all entries must have a float dtype), in header order.
     */
    public static LinkedHashMap<String, Tensor> readTensors(Path file) {
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
            for (Entry e : f.entries()) out.put(e.name(), f.tensor(e.name()));
            return out;
        }
    }

    /**
     * Validates a decoded header against a data buffer of {@code dataLength} bytes. Entries come
     * back in header order.
     */
    static Header parseHeader(String json, long dataLength, String source) {
        Object parsed;
        try {
            parsed = Json.parse(json, source);
        } catch (InvalidInputException e) {
            throw new InvalidInputException(source, "header is not valid JSON (" + e.problem() + ")", e);
        }
        if (!(parsed instanceof Map)) {
            throw new InvalidInputException(source, "header is not a JSON object but a JSON " + Json.typeName(parsed));
        }
        Map<String, Object> root = Json.asObject(parsed, "header", source);
        Map<String, String> metadata = Map.of();
        List<Entry> entries = new ArrayList<>(root.size());
        for (Map.Entry<String, Object> kv : root.entrySet()) {
            String name = kv.getKey();
            if (name.equals(METADATA_KEY)) {
                metadata = parseMetadata(kv.getValue(), source);
                continue;
            }
            entries.add(parseEntry(name, kv.getValue(), dataLength, source));
        }
        checkTiling(entries, dataLength, source);
        return new Header(Collections.unmodifiableList(entries), metadata);
    }

    private static Map<String, String> parseMetadata(Object v, String source) {
        if (v == null) return Map.of();
        if (!(v instanceof Map<?, ?> m)) {
            throw new InvalidInputException(source, METADATA_KEY + " must be an object mapping strings to strings, found a JSON "
                    + Json.typeName(v));
        }
        LinkedHashMap<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : m.entrySet()) {
            if (!(e.getValue() instanceof String s)) {
                throw new InvalidInputException(source, METADATA_KEY + " must map strings to strings, but \""
                        + e.getKey() + "\" holds a JSON " + Json.typeName(e.getValue()));
            }
            out.put((String) e.getKey(), s);
        }
        return Collections.unmodifiableMap(out);
    }

    private static Entry parseEntry(String name, Object v, long dataLength, String source) {
        String what = "tensor \"" + name + "\"";
        if (!(v instanceof Map)) {
            throw new InvalidInputException(source, what + ": expected an object with dtype, shape and data_offsets, found a JSON "
                    + Json.typeName(v));
        }
        Map<String, Object> obj = Json.asObject(v, what, source);
        for (String key : new String[] {"dtype", "shape", "data_offsets"}) {
            if (!obj.containsKey(key)) throw new InvalidInputException(source, what + ": missing \"" + key + "\"");
        }
        Object dtypeValue = obj.get("dtype");
        if (!(dtypeValue instanceof String dtypeName)) {
            throw new InvalidInputException(source, what + ": dtype must be a string, found a JSON " + Json.typeName(dtypeValue));
        }
        Dtype dtype = Dtype.byName(dtypeName);
        if (dtype == null) {
            throw new InvalidInputException(source, what + ": unknown dtype \"" + dtypeName + "\" (known: "
                    + Arrays.toString(Dtype.values()) + ")");
        }
        Object shapeValue = obj.get("shape");
        if (!(shapeValue instanceof List<?> shapeList)) {
            throw new InvalidInputException(source, what + ": shape must be an array of integers, found a JSON "
                    + Json.typeName(shapeValue));
        }
        int[] shape = new int[shapeList.size()];
        long elements = 1;
        boolean overflow = false;
        for (int i = 0; i < shape.length; i++) {
            Object d = shapeList.get(i);
            if (!(d instanceof Long dim)) {
                throw new InvalidInputException(source, what + ": shape " + Json.write(shapeList)
                        + " has a non-integer dimension " + Json.write(d));
            }
            if (dim < 0) {
                throw new InvalidInputException(source, what + ": shape " + Json.write(shapeList) + " has a negative dimension " + dim);
            }
            if (dim > Integer.MAX_VALUE) {
                throw new InvalidInputException(source, what + ": shape " + Json.write(shapeList) + " has a dimension " + dim
                        + " larger than 2^31-1");
            }
            shape[i] = (int) (long) dim;
            if (!overflow) {
                try {
                    elements = Math.multiplyExact(elements, dim);
                } catch (ArithmeticException e) {
                    overflow = true;
                }
            }
        }
        long bits = 0;
        if (!overflow) {
            try {
                bits = Math.multiplyExact(elements, (long) dtype.bits());
            } catch (ArithmeticException e) {
                overflow = true;
            }
        }
        // A zero dimension makes the count 0 whatever the others are; product-overflow then is harmless.
        boolean hasZero = false;
        for (int d : shape) hasZero |= d == 0;
        if (overflow && !hasZero) {
            throw new InvalidInputException(source, what + ": element count of shape " + Arrays.toString(shape) + " overflows");
        }
        if (overflow) {
            elements = 0;
            bits = 0;
        }
        Object offValue = obj.get("data_offsets");
        if (!(offValue instanceof List<?> offs) || offs.size() != 2
                || !(offs.get(0) instanceof Long) || !(offs.get(1) instanceof Long)) {
            throw new InvalidInputException(source, what + ": data_offsets must be two integers [begin, end], found "
                    + Json.write(offValue));
        }
        long begin = (Long) offs.get(0);
        long end = (Long) offs.get(1);
        if (begin < 0 || end < 0) {
            throw new InvalidInputException(source, what + ": negative data_offsets [" + begin + ", " + end + "]");
        }
        if (begin > end) {
            throw new InvalidInputException(source, what + ": data_offsets [" + begin + ", " + end + "] have begin > end");
        }
        if (end > dataLength) {
            throw new InvalidInputException(source, what + ": data_offsets [" + begin + ", " + end
                    + "] end beyond the data buffer (" + dataLength + " bytes)");
        }
        if (bits % 8 != 0) {
            throw new InvalidInputException(source, what + ": shape " + Arrays.toString(shape) + " of " + dtype
                    + " is not a whole number of bytes (" + bits + " bits)");
        }
        long need = bits / 8;
        if (end - begin != need) {
            throw new InvalidInputException(source, what + ": data_offsets [" + begin + ", " + end + "] hold " + (end - begin)
                    + " bytes but shape " + Arrays.toString(shape) + " of " + dtype + " needs " + need + " bytes");
        }
        return new Entry(name, dtype.name(), shape, begin, end);
    }

    private static void checkTiling(List<Entry> entries, long dataLength, String source) {
        List<Entry> sorted = new ArrayList<>(entries);
        sorted.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long covered = 0;
        Entry last = null;
        for (Entry e : sorted) {
            if (e.begin() < covered) {
                throw new InvalidInputException(source, "tensor \"" + e.name() + "\" [" + e.begin() + ", " + e.end()
                        + ") overlaps tensor \"" + last.name() + "\" [" + last.begin() + ", " + last.end() + ")");
            }
            if (e.begin() > covered) {
                throw new InvalidInputException(source, "hole in the data buffer: bytes [" + covered + ", " + e.begin()
                        + ") are not covered by any tensor (the format requires the buffer to be fully indexed)");
            }
            covered = e.end();
            last = e;
        }
        if (covered != dataLength) {
            throw new InvalidInputException(source, "hole in the data buffer: bytes [" + covered + ", " + dataLength
                    + ") at its end are not covered by any tensor (the format requires the buffer to be fully indexed)");
        }
    }

    // ------------------------------------------------------------------------------------ writing

    /**
     * Writes float tensors as F32, in the map's order, with optional metadata (null for none),
     * atomically.
     */
    public static void write(Path file, LinkedHashMap<String, Tensor> tensors, Map<String, String> metadata)
            throws IOException {
        Writer w = writer();
        if (metadata != null) w.metadata(metadata);
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) w.add(e.getKey(), e.getValue());
        w.write(file);
    }

    /** A builder for files mixing F32 tensors and raw tensors of any dtype. */
    public static Writer writer() {
        return new Writer();
    }

    /** Collects tensors and metadata, then writes them in insertion order. Not thread-safe. */
    public static final class Writer {
        private sealed interface Item permits FloatItem, RawItem {}

        private record FloatItem(Tensor tensor) implements Item {}

        private record RawItem(Dtype dtype, int[] shape, byte[] data) implements Item {}

        private final LinkedHashMap<String, Item> items = new LinkedHashMap<>();
        private Map<String, String> metadata = new LinkedHashMap<>();

        private Writer() {}

        /** Adds one metadata entry. */
        public Writer metadata(String key, String value) {
            checkText(key, "metadata key");
            checkText(value, "metadata value for \"" + key + "\"");
            metadata.put(key, value);
            return this;
        }

        /**
         * Adds metadata entries; a {@link LinkedHashMap} or {@link SortedMap} keeps its order, any
         * other map is written with sorted keys.
         */
        public Writer metadata(Map<String, String> entries) {
            Map<String, String> ordered = entries instanceof LinkedHashMap || entries instanceof SortedMap
                    ? entries : new TreeMap<>(entries);
            for (Map.Entry<String, String> e : ordered.entrySet()) metadata(e.getKey(), e.getValue());
            return this;
        }

        /** Adds a float tensor, written as F32. The data is read at {@link #write} time. */
        public Writer add(String name, Tensor tensor) {
            checkName(name);
            items.put(name, new FloatItem(Objects.requireNonNull(tensor, "tensor")));
            return this;
        }

        /**
         * Adds a tensor of any dtype from its little-endian bytes (for instance packed integer
         * codes); the length must equal elements × dtype size. The array is not copied.
         */
        public Writer addRaw(String name, String dtype, int[] shape, byte[] data) {
            checkName(name);
            Dtype d = Dtype.byName(dtype);
            if (d == null) throw new IllegalArgumentException("unknown safetensors dtype \"" + dtype + "\"");
            long elements = Tensor.checkedSize(shape);
            long bits = elements * d.bits();
            if (bits % 8 != 0 || bits / 8 != data.length) {
                throw new IllegalArgumentException("tensor \"" + name + "\": " + data.length + " bytes do not match shape "
                        + Arrays.toString(shape) + " of " + d + " (" + bits + " bits)");
            }
            items.put(name, new RawItem(d, shape.clone(), data));
            return this;
        }

        private void checkName(String name) {
            checkText(name, "tensor name");
            if (name.equals(METADATA_KEY)) throw new IllegalArgumentException("\"" + METADATA_KEY + "\" is reserved");
            if (items.containsKey(name)) throw new IllegalArgumentException("duplicate tensor name \"" + name + "\"");
        }

        private static void checkText(String s, String what) {
            Objects.requireNonNull(s, what);
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                    i++;
                } else if (Character.isSurrogate(c)) {
                    throw new IllegalArgumentException(what + " contains a lone surrogate");
                }
            }
        }

        /** The header bytes (JSON padded with spaces to a multiple of 8), without the length prefix. */
        byte[] headerBytes() {
            LinkedHashMap<String, Object> header = new LinkedHashMap<>();
            if (!metadata.isEmpty()) header.put(METADATA_KEY, new LinkedHashMap<>(metadata));
            long offset = 0;
            for (Map.Entry<String, Item> e : items.entrySet()) {
                Dtype dtype;
                int[] shape;
                long bytes;
                switch (e.getValue()) {
                    case FloatItem f -> {
                        dtype = Dtype.F32;
                        shape = f.tensor().shape();
                        bytes = 4L * f.tensor().size();
                    }
                    case RawItem r -> {
                        dtype = r.dtype();
                        shape = r.shape();
                        bytes = r.data().length;
                    }
                }
                LinkedHashMap<String, Object> info = new LinkedHashMap<>();
                info.put("dtype", dtype.name());
                info.put("shape", shape);
                info.put("data_offsets", new long[] {offset, offset + bytes});
                header.put(e.getKey(), info);
                offset += bytes;
            }
            byte[] json = Json.write(header).getBytes(StandardCharsets.UTF_8);
            int padded = (json.length + 7) & ~7;
            byte[] out = Arrays.copyOf(json, padded);
            Arrays.fill(out, json.length, padded, (byte) ' ');
            return out;
        }

        /** Writes the file atomically. */
        public void write(Path file) throws IOException {
            byte[] header = headerBytes();
            AtomicFiles.write(file, ch -> {
                ByteBuffer prefix = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
                prefix.putLong(header.length).flip();
                AtomicFiles.writeFully(ch, prefix);
                AtomicFiles.writeFully(ch, ByteBuffer.wrap(header));
                ByteBuffer chunk = null;
                for (Item item : items.values()) {
                    switch (item) {
                        case FloatItem f -> {
                            if (chunk == null) chunk = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
                            writeFloats(ch, f.tensor().data(), chunk);
                        }
                        case RawItem r -> AtomicFiles.writeFully(ch, ByteBuffer.wrap(r.data()));
                    }
                }
            });
        }

        private static void writeFloats(FileChannel ch, float[] data, ByteBuffer chunk) throws IOException {
            int perChunk = chunk.capacity() / 4;
            FloatBuffer fb = chunk.clear().asFloatBuffer();
            for (int off = 0; off < data.length; off += perChunk) {
                int n = Math.min(perChunk, data.length - off);
                fb.clear();
                fb.put(data, off, n);
                chunk.clear().limit(4 * n);
                AtomicFiles.writeFully(ch, chunk);
            }
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "Safetensors.Writer[%d tensors, %d metadata]", items.size(), metadata.size());
        }
    }
}
