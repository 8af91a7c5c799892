package dev.shiftaddvit.io.torch;

import dev.shiftaddvit.io.InvalidInputException;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A pickle reader that executes nothing: it decodes the opcodes of protocols 2 to 4 that
 * {@code torch.save} and plain containers use into Java values, and hands every global, call and
 * persistent id to a {@link Host} that decides what they mean (and refuses what it does not know).
 *
 * <p>Values: None → null, bool → Boolean, int → Long (wider ints are refused), float → Double,
 * str → String, bytes → byte[], list → ArrayList, tuple → {@link Tuple}, dict → LinkedHashMap.
 * Every length is checked against the bytes left, so a garbled or truncated pickle is an
 * {@link InvalidInputException}, never an index error, and nothing is allocated beyond the input's size.
 */
public final class Unpickler {
    /** What the pickle may reference outside itself; every method refuses by throwing. */
    public interface Host {
        /** The value of GLOBAL / STACK_GLOBAL module.name. */
        Object global(String module, String name);

        /** REDUCE / NEWOBJ: callable applied to args. */
        Object call(Object callable, Tuple args);

        /** BINPERSID. */
        Object persistentLoad(Object pid);

        /** BUILD: sets the state of obj; returns the object that replaces it on the stack. */
        Object build(Object obj, Object state);
    }

    /** An immutable pickle tuple (may hold nulls, unlike List.of). */
    public record Tuple(List<Object> items) {
        public Tuple {
            items = Collections.unmodifiableList(new ArrayList<>(items));
        }

        public int size() {
            return items.size();
        }

        public Object get(int i) {
            return items.get(i);
        }
    }

    private static final Object MARK = new Object();

    private final byte[] in;
    private final String source;
    private final Host host;
    private final ArrayList<Object> stack = new ArrayList<>();
    private final ArrayList<Integer> marks = new ArrayList<>();
    private final Map<Long, Object> memo = new HashMap<>();
    private int pos;

    private Unpickler(byte[] in, String source, Host host) {
        this.in = in;
        this.source = source;
        this.host = host;
    }

    /** Decodes one pickle; bytes after STOP are ignored, as Python does. */
    public static Object load(byte[] pickle, String source, Host host) {
        return new Unpickler(pickle, source, host).run();
    }

    private InvalidInputException bad(String problem) {
        return new InvalidInputException(source, "pickle: " + problem + " (at byte " + pos + ")");
    }

    private Object run() {
        while (true) {
            int at = pos;
            int op = u8();
            switch (op) {
                case 0x80 -> { // PROTO
                    int v = u8();
                    if (v > 5) throw bad("unsupported pickle protocol " + v);
                }
                case 0x95 -> skip(8); // FRAME: a length hint only
                case '.' -> { // STOP
                    Object v = pop();
                    if (!stack.isEmpty() || !marks.isEmpty()) throw bad("values left on the stack at STOP");
                    return v;
                }
                case '(' -> {
                    marks.add(stack.size());
                    stack.add(MARK);
                }
                case '0' -> pop();
                case '1' -> popMark();
                case '2' -> push(peek());
                case 'N' -> push(null);
                case 0x88 -> push(Boolean.TRUE);
                case 0x89 -> push(Boolean.FALSE);
                case 'J' -> push((long) i32());
                case 'K' -> push((long) u8());
                case 'M' -> push((long) (u8() | u8() << 8));
                case 0x8a -> push(long1(u8()));
                case 'G' -> push(Double.longBitsToDouble(beLong()));
                case 'X' -> push(utf8(len32()));
                case 0x8c -> push(utf8(u8()));
                case 0x8d -> push(utf8(len64()));
                case 'T' -> push(latin1(len32()));
                case 'U' -> push(latin1(u8()));
                case 'B' -> push(bytes(len32()));
                case 'C' -> push(bytes(u8()));
                case 0x8e -> push(bytes(len64()));
                case ')' -> push(new Tuple(List.of()));
                case 't' -> push(new Tuple(popMark()));
                case 0x85 -> push(new Tuple(popN(1)));
                case 0x86 -> push(new Tuple(popN(2)));
                case 0x87 -> push(new Tuple(popN(3)));
                case ']' -> push(new ArrayList<>());
                case 'l' -> push(new ArrayList<>(popMark()));
                case 'a' -> {
                    Object v = pop();
                    list(peek()).add(v);
                }
                case 'e' -> {
                    List<Object> items = popMark();
                    list(peek()).addAll(items);
                }
                case '}' -> push(new LinkedHashMap<>());
                case 'd' -> {
                    Map<Object, Object> m = new LinkedHashMap<>();
                    putPairs(m, popMark());
                    push(m);
                }
                case 's' -> {
                    Object v = pop();
                    Object k = pop();
                    putPairs(dict(peek()), Arrays.asList(k, v));
                }
                case 'u' -> {
                    List<Object> kv = popMark();
                    putPairs(dict(peek()), kv);
                }
                case 'h' -> push(memoGet(u8()));
                case 'j' -> push(memoGet(len32()));
                case 'q' -> memo.put((long) u8(), peek());
                case 'r' -> memo.put(len32(), peek());
                case 0x94 -> memo.put((long) memo.size(), peek());
                case 'c' -> push(host.global(line(), line()));
                case 0x93 -> {
                    Object name = pop();
                    Object module = pop();
                    if (!(module instanceof String m) || !(name instanceof String n)) {
                        throw bad("STACK_GLOBAL needs two strings");
                    }
                    push(host.global(m, n));
                }
                case 'R', 0x81 -> {
                    Object args = pop();
                    Object callable = pop();
                    if (!(args instanceof Tuple t)) throw bad("call arguments are not a tuple");
                    push(host.call(callable, t));
                }
                case 'b' -> {
                    Object state = pop();
                    push(host.build(pop(), state));
                }
                case 'Q' -> push(host.persistentLoad(pop()));
                default -> {
                    pos = at;
                    throw bad(String.format("unsupported or invalid opcode 0x%02x", op));
                }
            }
        }
    }

    private void push(Object v) {
        stack.add(v);
    }

    private Object pop() {
        if (stack.isEmpty() || stack.getLast() == MARK) throw bad("stack underflow");
        return stack.removeLast();
    }

    private Object peek() {
        if (stack.isEmpty() || stack.getLast() == MARK) throw bad("stack underflow");
        return stack.getLast();
    }

    private List<Object> popN(int n) {
        List<Object> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) out.addFirst(pop());
        return out;
    }

    private List<Object> popMark() {
        if (marks.isEmpty()) throw bad("no MARK on the stack");
        int m = marks.removeLast();
        List<Object> items = new ArrayList<>(stack.subList(m + 1, stack.size()));
        stack.subList(m, stack.size()).clear();
        return items;
    }

    @SuppressWarnings("unchecked")
    private List<Object> list(Object v) {
        if (!(v instanceof ArrayList<?> l)) throw bad("append to a non-list");
        return (List<Object>) l;
    }

    @SuppressWarnings("unchecked")
    private Map<Object, Object> dict(Object v) {
        if (!(v instanceof LinkedHashMap<?, ?> m)) throw bad("set item on a non-dict");
        return (Map<Object, Object>) m;
    }

    private void putPairs(Map<Object, Object> m, List<Object> kv) {
        if (kv.size() % 2 != 0) throw bad("odd number of items for a dict");
        for (int i = 0; i < kv.size(); i += 2) {
            Object k = kv.get(i);
            // Only scalar keys: hashing a container key could recurse forever through a cyclic value.
            if (k != null && !(k instanceof String || k instanceof Long || k instanceof Boolean)) {
                throw bad("unsupported dict key type " + k.getClass().getSimpleName());
            }
            m.put(k, kv.get(i + 1));
        }
    }

    private Object memoGet(long key) {
        if (!memo.containsKey(key)) throw bad("memo key " + key + " was never stored");
        return memo.get(key);
    }

    private void need(long n) {
        if (n < 0 || n > in.length - pos) throw bad("truncated: needs " + n + " more bytes, " + (in.length - pos) + " left");
    }

    private void skip(int n) {
        need(n);
        pos += n;
    }

    private int u8() {
        need(1);
        return in[pos++] & 0xff;
    }

    private int i32() {
        need(4);
        int v = (in[pos] & 0xff) | (in[pos + 1] & 0xff) << 8 | (in[pos + 2] & 0xff) << 16 | in[pos + 3] << 24;
        pos += 4;
        return v;
    }

    private long len32() {
        return i32() & 0xffffffffL;
    }

    private long len64() {
        long lo = len32();
        long hi = len32();
        if (hi != 0) throw bad("length beyond 4 GiB");
        return lo;
    }

    private long beLong() {
        long v = 0;
        for (int i = 0; i < 8; i++) v = v << 8 | u8();
        return v;
    }

    private long long1(int n) {
        if (n > 8) throw bad("integer of " + n + " bytes is too large");
        need(n);
        long v = 0;
        for (int i = n - 1; i >= 0; i--) v = v << 8 | (in[pos + i] & 0xff);
        if (n > 0 && n < 8 && (in[pos + n - 1] & 0x80) != 0) v -= 1L << (8 * n); // two's complement sign
        pos += n;
        return v;
    }

    private byte[] bytes(long n) {
        need(n);
        byte[] b = Arrays.copyOfRange(in, pos, pos + (int) n);
        pos += (int) n;
        return b;
    }

    private String utf8(long n) {
        return new String(bytes(n), StandardCharsets.UTF_8);
    }

    private String latin1(long n) {
        return new String(bytes(n), StandardCharsets.ISO_8859_1);
    }

    private String line() {
        int start = pos;
        while (pos < in.length && in[pos] != '\n') pos++;
        if (pos >= in.length) throw bad("truncated GLOBAL name");
        String s = new String(in, start, pos - start, StandardCharsets.UTF_8);
        pos++;
        return s;
    }
}
