package dev.shiftaddvit.io.torch;

import dev.shiftaddvit.io.InvalidInputException;
import dev.shiftaddvit.io.torch.Unpickler.Tuple;
import dev.shiftaddvit.tensor.ShapeException;
import dev.shiftaddvit.tensor.Tensor;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Reads the tensors of a {@code torch.save} zip checkpoint ({@code .pth}, {@code .pt},
 * {@code pytorch_model.bin}): {@code <archive>/data.pkl} is a pickle whose tensors point, through
 * persistent ids {@code ("storage", torch.XStorage, key, location, numel)}, at raw storages
 * {@code <archive>/data/<key>} in the byte order of {@code <archive>/byteorder}.
 *
 * <p>The pickle goes through {@link Unpickler} with the same allow-list as PyTorch's
 * {@code weights_only} loading, narrowed to state dicts: {@code torch._utils._rebuild_tensor_v2},
 * {@code _rebuild_parameter}, the storage classes and {@code collections.OrderedDict}. Any other
 * global (a module class, {@code argparse.Namespace}, {@code os.system}) is refused by name. Every
 * size is checked against the file before anything is allocated. The legacy pre-1.6 (non-zip)
 * format is recognised and refused.
 */
public final class TorchCheckpoint {
    /** Keys under which training scripts nest the state dict (DeiT and PVT releases use "model"). */
    private static final List<String> WRAPPER_KEYS = List.of("state_dict", "model");
    private static final int MAX_ARRAY = Integer.MAX_VALUE - 16;

    /** torch's typed storage classes, with the size of one element. */
    enum StorageType {
        FLOAT(4), DOUBLE(8), HALF(2), BFLOAT16(2), LONG(8), INT(4), SHORT(2), CHAR(1), BYTE(1), BOOL(1);

        final int bytes;

        StorageType(int bytes) {
            this.bytes = bytes;
        }

        static StorageType byClassName(String name) {
            String upper = name.endsWith("Storage") ? name.substring(0, name.length() - 7).toUpperCase(java.util.Locale.ROOT) : "";
            for (StorageType t : values()) if (t.name().equals(upper)) return t;
            return null;
        }
    }

    private enum Rebuild { REBUILD_TENSOR, REBUILD_PARAMETER, ORDERED_DICT }

    private record StorageRef(StorageType type, String key, long numel) {
    }

    private record TensorRef(StorageRef storage, long offset, int[] shape, long[] stride) {
    }

    private final Path file;
    private final String source;
    private final long fileSize;
    private final ZipFile zip;
    private final String prefix;
    private final ByteOrder order;
    private final Map<String, ByteBuffer> storages = new HashMap<>();
    /** Elements materialised so far: at most one per file byte (views may share a storage). */
    private long materialized;

    private TorchCheckpoint(Path file, long fileSize, ZipFile zip) {
        this.file = file;
        this.source = file.toString();
        this.fileSize = fileSize;
        this.zip = zip;
        this.prefix = archivePrefix();
        this.order = byteOrder();
    }

    /**
     * The state dict of a checkpoint as float tensors (fp16, bf16, double and integer storages
     * converted; strided views copied out), in file order. A top level whose values are not all
     * tensors is unwrapped through its "state_dict" or "model" entry.
     */
    public static LinkedHashMap<String, Tensor> readStateDict(Path file) {
        String source = file.toString();
        if (!Files.isRegularFile(file)) throw new InvalidInputException(source, "file not found or not a regular file");
        long size;
        byte[] magic;
        try (InputStream in = Files.newInputStream(file)) {
            size = Files.size(file);
            magic = in.readNBytes(4);
        } catch (IOException e) {
            throw new InvalidInputException(source, "cannot read: " + e, e);
        }
        if (magic.length < 4 || magic[0] != 'P' || magic[1] != 'K' || magic[2] != 3 || magic[3] != 4) {
            if (magic.length >= 2 && (magic[0] & 0xff) == 0x80 && magic[1] == 2) {
                throw new InvalidInputException(source, "legacy (pre-1.6, non-zip) torch.save format is not supported; "
                        + "load and re-save it with a current PyTorch, or convert it to safetensors");
            }
            throw new InvalidInputException(source, "not a PyTorch zip checkpoint (no zip signature)");
        }
        try (ZipFile zip = new ZipFile(file.toFile())) {
            return new TorchCheckpoint(file, size, zip).stateDict();
        } catch (IOException e) {
            throw new InvalidInputException(source, "corrupt or truncated zip archive: " + e.getMessage(), e);
        }
    }

    private InvalidInputException bad(String problem) {
        return new InvalidInputException(source, problem);
    }

    private String archivePrefix() {
        String found = null;
        for (ZipEntry e : Collections.list(zip.entries())) {
            String n = e.getName();
            if (n.endsWith("/data.pkl") && n.indexOf('/') == n.length() - 9) {
                if (found != null) throw bad("more than one data.pkl in the archive");
                found = n.substring(0, n.length() - 8);
            }
        }
        if (found == null) throw bad("zip archive has no <name>/data.pkl: not a torch.save checkpoint");
        return found;
    }

    private ByteOrder byteOrder() {
        ZipEntry e = zip.getEntry(prefix + "byteorder");
        if (e == null) return ByteOrder.LITTLE_ENDIAN; // written since torch 1.10; older files are little-endian
        String s = new String(read(e, 16), StandardCharsets.US_ASCII).strip();
        return switch (s) {
            case "little" -> ByteOrder.LITTLE_ENDIAN;
            case "big" -> ByteOrder.BIG_ENDIAN;
            default -> throw bad("byteorder entry says \"" + s + "\", expected little or big");
        };
    }

    /** An entry's bytes, refusing sizes beyond {@code limit} before reading and checking the length read. */
    private byte[] read(ZipEntry e, long limit) {
        long declared = e.getSize();
        if (declared < 0 || declared > limit || declared > MAX_ARRAY) {
            throw bad("zip entry " + e.getName() + " declares " + declared + " bytes, more than the " + limit + " possible");
        }
        try (InputStream in = zip.getInputStream(e)) {
            byte[] b = in.readNBytes((int) declared); // grows with the bytes actually read
            if (b.length != declared || in.read() != -1) {
                throw bad("zip entry " + e.getName() + " holds " + b.length + " bytes, not the " + declared + " declared");
            }
            return b;
        } catch (IOException ex) {
            throw bad("corrupt zip entry " + e.getName() + ": " + ex.getMessage());
        }
    }

    /** Decompression can grow data by at most ~1032× (deflate's limit); stored entries not at all. */
    private long limitFor(ZipEntry e) {
        return e.getMethod() == ZipEntry.STORED ? fileSize : Math.min(MAX_ARRAY, Math.max(0, e.getCompressedSize()) * 1032);
    }

    private LinkedHashMap<String, Tensor> stateDict() {
        ZipEntry pkl = zip.getEntry(prefix + "data.pkl");
        Object root = Unpickler.load(read(pkl, limitFor(pkl)), source, new Host());
        Map<?, ?> dict = unwrap(root);
        LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
        for (Map.Entry<?, ?> kv : dict.entrySet()) {
            if (!(kv.getKey() instanceof String name)) {
                problems.add("non-string key " + kv.getKey());
            } else if (!(kv.getValue() instanceof TensorRef t)) {
                problems.add(name + " is " + typeName(kv.getValue()) + ", not a tensor");
            } else {
                out.put(name, materialize(name, t));
            }
        }
        if (!problems.isEmpty()) throw bad("state dict holds non-tensors: " + String.join("; ", problems));
        return out;
    }

    private Map<?, ?> unwrap(Object root) {
        if (!(root instanceof Map<?, ?> top)) throw bad("top level is " + typeName(root) + ", not a dict of tensors");
        if (top.values().stream().allMatch(v -> v instanceof TensorRef)) return top;
        for (String key : WRAPPER_KEYS) {
            if (top.get(key) instanceof Map<?, ?> inner) return inner;
        }
        throw bad("top-level dict is not a state dict and has none under " + WRAPPER_KEYS + "; its keys: " + top.keySet());
    }

    private static String typeName(Object v) {
        return switch (v) {
            case null -> "None";
            case Map<?, ?> m -> "a dict";
            case List<?> l -> "a list";
            case Tuple t -> "a tuple";
            case String s -> "a string";
            case Long l -> "an int";
            default -> "a " + v.getClass().getSimpleName();
        };
    }

    private Tensor materialize(String name, TensorRef t) {
        StorageRef s = t.storage();
        ByteBuffer data = storages.computeIfAbsent(s.key(), k -> {
            ZipEntry e = zip.getEntry(prefix + "data/" + k);
            if (e == null) throw bad("tensor " + name + ": storage data/" + k + " is missing from the archive");
            return ByteBuffer.wrap(read(e, limitFor(e))).order(order);
        });
        // Checked on every use: two persistent ids may name one key with different types or counts.
        if (data.capacity() != s.numel() * s.type().bytes) {
            throw bad("tensor " + name + ": storage data/" + s.key() + " has " + data.capacity() + " bytes but "
                    + s.numel() + " " + s.type() + " elements need " + s.numel() * s.type().bytes);
        }
        int[] shape = t.shape();
        int n = Tensor.checkedSize(shape);
        // Every key may name the same memoised tensor; without a total, a small pickle could ask for
        // many copies of the largest storage. Tied weights stay far below one element per file byte.
        materialized += n;
        if (materialized > fileSize) {
            throw bad("tensor " + name + ": the state dict's tensors add up to more than " + fileSize
                    + " elements, one per byte of the file (the same storage viewed over and over)");
        }
        float[] out = new float[n];
        int rank = shape.length;
        int[] idx = new int[rank];
        long at = t.offset();
        int bytes = s.type().bytes;
        for (int i = 0; i < n; i++) {
            out[i] = element(data, s.type(), (int) (at * bytes));
            // Odometer over the shape, moving the storage index by the strides.
            for (int d = rank - 1; d >= 0; d--) {
                if (++idx[d] < shape[d]) {
                    at += t.stride()[d];
                    break;
                }
                at -= (long) (shape[d] - 1) * t.stride()[d];
                idx[d] = 0;
            }
        }
        return Tensor.of(out, shape);
    }

    private static float element(ByteBuffer b, StorageType type, int at) {
        return switch (type) {
            case FLOAT -> b.getFloat(at);
            case DOUBLE -> (float) b.getDouble(at);
            case HALF -> Float.float16ToFloat(b.getShort(at));
            case BFLOAT16 -> Float.intBitsToFloat((b.getShort(at) & 0xffff) << 16);
            case LONG -> (float) b.getLong(at);
            case INT -> b.getInt(at);
            case SHORT -> b.getShort(at);
            case CHAR -> b.get(at);
            case BYTE -> b.get(at) & 0xff;
            case BOOL -> b.get(at) != 0 ? 1 : 0;
        };
    }

    /** What the pickle may name: the rebuild functions, storage classes and OrderedDict; nothing runs. */
    private final class Host implements Unpickler.Host {
        @Override
        public Object global(String module, String name) {
            if (module.equals("torch._utils")) {
                switch (name) {
                    case "_rebuild_tensor_v2" -> {
                        return Rebuild.REBUILD_TENSOR;
                    }
                    case "_rebuild_parameter", "_rebuild_parameter_with_state" -> {
                        return Rebuild.REBUILD_PARAMETER;
                    }
                    default -> {
                    }
                }
            }
            if (module.equals("collections") && name.equals("OrderedDict")) return Rebuild.ORDERED_DICT;
            if (module.equals("torch") && StorageType.byClassName(name) != null) return StorageType.byClassName(name);
            throw bad("refuses global " + module + "." + name
                    + " (only tensors, storages and dicts are rebuilt; re-save the state dict alone)");
        }

        @Override
        public Object call(Object callable, Tuple args) {
            if (!(callable instanceof Rebuild c)) throw bad("pickle calls " + typeName(callable) + ", which is not a rebuild function");
            return switch (c) {
                case ORDERED_DICT -> {
                    if (args.size() != 0) throw bad("OrderedDict rebuilt with arguments");
                    yield new LinkedHashMap<>();
                }
                case REBUILD_PARAMETER -> {
                    if (args.size() < 1 || !(args.get(0) instanceof TensorRef t)) throw bad("_rebuild_parameter without a tensor");
                    yield t;
                }
                case REBUILD_TENSOR -> rebuildTensor(args);
            };
        }

        @Override
        public Object persistentLoad(Object pid) {
            if (!(pid instanceof Tuple t) || t.size() != 5 || !"storage".equals(t.get(0))
                    || !(t.get(1) instanceof StorageType type) || !(t.get(2) instanceof String key)
                    || !(t.get(4) instanceof Long numel)) {
                throw bad("unexpected persistent id (expected (\"storage\", torch.XStorage, key, location, numel))");
            }
            if (numel < 0 || numel > fileSize / type.bytes) {
                throw bad("storage " + key + " claims " + numel + " " + type + " elements, more than the file holds");
            }
            return new StorageRef(type, key, numel);
        }

        @Override
        public Object build(Object obj, Object state) {
            // A state dict's only attribute is _metadata (per-module version numbers), not needed here.
            if (obj instanceof LinkedHashMap<?, ?>) return obj;
            throw bad("pickle sets the state of " + typeName(obj) + ", which a state dict never does");
        }

        private TensorRef rebuildTensor(Tuple a) {
            if (a.size() < 4 || !(a.get(0) instanceof StorageRef s) || !(a.get(1) instanceof Long offset)
                    || !(a.get(2) instanceof Tuple size) || !(a.get(3) instanceof Tuple stride) || size.size() != stride.size()) {
                throw bad("_rebuild_tensor_v2 with unexpected arguments");
            }
            int rank = size.size();
            int[] shape = new int[rank];
            long[] strides = new long[rank];
            if (offset < 0) throw bad("tensor of storage " + s.key() + " has a negative offset " + offset);
            long last = offset; // the largest storage index the view touches, kept below numel
            boolean inside = true;
            boolean empty = false;
            for (int d = 0; d < rank; d++) {
                if (!(size.get(d) instanceof Long n) || n < 0 || n > Integer.MAX_VALUE
                        || !(stride.get(d) instanceof Long st) || st < 0) {
                    throw bad("tensor of storage " + s.key() + " has a bad size or stride " + size.items() + " / " + stride.items());
                }
                shape[d] = (int) (long) n;
                strides[d] = st;
                empty |= n == 0;
                // Division instead of multiplication: (n-1)·stride may overflow a long.
                if (st > 0 && n - 1 > (s.numel() - 1 - last) / st) inside = false;
                else last += (n - 1) * st;
            }
            if (!empty && (!inside || last >= s.numel())) {
                throw bad("tensor of shape " + size.items() + " at offset " + offset + " reaches beyond its storage "
                        + s.key() + " of " + s.numel() + " elements");
            }
            long count;
            try {
                count = Tensor.checkedSize(shape);
            } catch (ShapeException e) {
                throw bad("tensor of storage " + s.key() + ": " + e.getMessage());
            }
            // More elements than the storage holds means the view overlaps itself (a stride of 0, as
            // expand() makes): a few bytes of file could then claim gigabytes.
            if (count > s.numel()) {
                throw bad("tensor of shape " + size.items() + " and stride " + stride.items() + " has " + count
                        + " elements but its storage " + s.key() + " holds " + s.numel()
                        + "; overlapping (expanded) views are not supported");
            }
            return new TensorRef(s, offset, shape, strides);
        }
    }
}
