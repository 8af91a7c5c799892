package dev.shiftaddvit.io;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * A small, strict JSON (RFC 8259) parser and writer.
 *
 * <p>Parsing maps JSON values to Java as follows: object → {@code LinkedHashMap<String,Object>}
 * (insertion order kept), array → {@code ArrayList<Object>}, string → {@link String},
 * {@code true}/{@code false} → {@link Boolean}, {@code null} → {@code null}, and numbers by one
 * rule: <b>a number written without fraction and exponent that fits in a {@code long} becomes a
 * {@link Long}; every other number becomes a {@link Double}</b> (which must be finite).
 *
 * <p>The parser rejects, with an {@link InvalidInputException} naming the source and the character
 * offset: trailing garbage, nesting deeper than {@value #MAX_DEPTH}, bad or unknown escapes, raw
 * control characters in strings, lone surrogates, duplicate object keys, leading zeros, {@code NaN}
 * and friends, and any other deviation from the grammar.
 *
 * <p>{@link #write(Object)} produces compact JSON with deterministic key order: a
 * {@link LinkedHashMap} or {@link SortedMap} is written in its own order, any other map with its
 * keys sorted.
 */
public final class Json {
    /** The deepest nesting of arrays and objects the parser accepts. */
    public static final int MAX_DEPTH = 64;

    private final String text;
    private final String source;
    private int pos;

    private Json(String text, String source) {
        this.text = text;
        this.source = source;
    }

    /** Parses a complete JSON text. */
    public static Object parse(String text, String source) {
        Json p = new Json(text, source);
        p.skipWhitespace();
        if (p.pos >= text.length()) throw p.error("empty input, expected a JSON value");
        Object value = p.value(0);
        p.skipWhitespace();
        if (p.pos < text.length()) throw p.error("trailing characters after the JSON value");
        return value;
    }

    /** Parses a JSON text that must be an object. */
    public static Map<String, Object> parseObject(String text, String source) {
        Object v = parse(text, source);
        if (!(v instanceof Map)) {
            throw new InvalidInputException(source, "expected a JSON object but found " + typeName(v));
        }
        return castObject(v);
    }

    // ------------------------------------------------------------------------------------ parser

    private InvalidInputException error(String problem) {
        return new InvalidInputException(source, "invalid JSON at offset " + pos + ": " + problem);
    }

    private void skipWhitespace() {
        while (pos < text.length()) {
            char c = text.charAt(pos);
            if (c == ' ' || c == '\t' || c == '\n' || c == '\r') pos++;
            else break;
        }
    }

    private Object value(int depth) {
        if (pos >= text.length()) throw error("unexpected end of input, expected a value");
        char c = text.charAt(pos);
        switch (c) {
            case '{':
                return object(depth + 1);
            case '[':
                return array(depth + 1);
            case '"':
                return string();
            case 't':
                literal("true");
                return Boolean.TRUE;
            case 'f':
                literal("false");
                return Boolean.FALSE;
            case 'n':
                literal("null");
                return null;
            default:
                if (c == '-' || (c >= '0' && c <= '9')) return number();
                throw error("unexpected character " + describe(c));
        }
    }

    private void literal(String word) {
        if (!text.startsWith(word, pos)) throw error("invalid literal, expected '" + word + "'");
        pos += word.length();
    }

    private Map<String, Object> object(int depth) {
        if (depth > MAX_DEPTH) throw error("nesting deeper than " + MAX_DEPTH);
        pos++; // '{'
        LinkedHashMap<String, Object> map = new LinkedHashMap<>();
        skipWhitespace();
        if (pos < text.length() && text.charAt(pos) == '}') {
            pos++;
            return map;
        }
        while (true) {
            skipWhitespace();
            if (pos >= text.length()) throw error("unexpected end of input in object");
            if (text.charAt(pos) != '"') throw error("expected a string key, found " + describe(text.charAt(pos)));
            int keyPos = pos;
            String key = string();
            skipWhitespace();
            expect(':');
            skipWhitespace();
            Object v = value(depth);
            if (map.containsKey(key)) {
                pos = keyPos;
                throw error("duplicate key \"" + shorten(key) + "\"");
            }
            map.put(key, v);
            skipWhitespace();
            if (pos >= text.length()) throw error("unexpected end of input in object");
            char c = text.charAt(pos++);
            if (c == '}') return map;
            if (c != ',') {
                pos--;
                throw error("expected ',' or '}' in object, found " + describe(c));
            }
        }
    }

    private List<Object> array(int depth) {
        if (depth > MAX_DEPTH) throw error("nesting deeper than " + MAX_DEPTH);
        pos++; // '['
        ArrayList<Object> list = new ArrayList<>();
        skipWhitespace();
        if (pos < text.length() && text.charAt(pos) == ']') {
            pos++;
            return list;
        }
        while (true) {
            skipWhitespace();
            list.add(value(depth));
            skipWhitespace();
            if (pos >= text.length()) throw error("unexpected end of input in array");
            char c = text.charAt(pos++);
            if (c == ']') return list;
            if (c != ',') {
                pos--;
                throw error("expected ',' or ']' in array, found " + describe(c));
            }
        }
    }

    private void expect(char c) {
        if (pos >= text.length()) throw error("unexpected end of input, expected '" + c + "'");
        if (text.charAt(pos) != c) throw error("expected '" + c + "', found " + describe(text.charAt(pos)));
        pos++;
    }

    private String string() {
        pos++; // opening quote
        StringBuilder sb = null;
        int runStart = pos;
        while (true) {
            if (pos >= text.length()) throw error("unterminated string");
            char c = text.charAt(pos);
            if (c == '"') {
                String s = sb == null ? text.substring(runStart, pos) : sb.append(text, runStart, pos).toString();
                pos++;
                return s;
            }
            if (c < 0x20) throw error("unescaped control character " + describe(c) + " in string");
            if (Character.isSurrogate(c)) {
                if (Character.isHighSurrogate(c) && pos + 1 < text.length()
                        && Character.isLowSurrogate(text.charAt(pos + 1))) {
                    pos += 2;
                    continue;
                }
                throw error("lone surrogate in string");
            }
            if (c != '\\') {
                pos++;
                continue;
            }
            if (sb == null) sb = new StringBuilder();
            sb.append(text, runStart, pos);
            pos++;
            if (pos >= text.length()) throw error("unterminated escape");
            char e = text.charAt(pos++);
            switch (e) {
                case '"' -> sb.append('"');
                case '\\' -> sb.append('\\');
                case '/' -> sb.append('/');
                case 'b' -> sb.append('\b');
                case 'f' -> sb.append('\f');
                case 'n' -> sb.append('\n');
                case 'r' -> sb.append('\r');
                case 't' -> sb.append('\t');
                case 'u' -> {
                    char u = hex4();
                    if (Character.isHighSurrogate(u)) {
                        if (!text.startsWith("\\u", pos)) throw error("high surrogate escape without a low surrogate");
                        pos += 2;
                        char low = hex4();
                        if (!Character.isLowSurrogate(low)) throw error("high surrogate escape without a low surrogate");
                        sb.append(u).append(low);
                    } else if (Character.isLowSurrogate(u)) {
                        throw error("lone low surrogate escape");
                    } else {
                        sb.append(u);
                    }
                }
                default -> {
                    pos--;
                    throw error("invalid escape '\\" + (e < 0x20 || e > 0x7e ? describe(e) : String.valueOf(e)) + "'");
                }
            }
            runStart = pos;
        }
    }

    private char hex4() {
        if (pos + 4 > text.length()) throw error("truncated \\u escape");
        int v = 0;
        for (int i = 0; i < 4; i++) {
            int d = Character.digit(text.charAt(pos), 16);
            if (d < 0 || text.charAt(pos) > 'f') throw error("invalid hex digit in \\u escape");
            v = v * 16 + d;
            pos++;
        }
        return (char) v;
    }

    private Object number() {
        int start = pos;
        if (text.charAt(pos) == '-') pos++;
        if (pos >= text.length()) throw error("'-' without digits");
        char c = text.charAt(pos);
        if (c == '0') {
            pos++;
            if (pos < text.length() && isDigit(text.charAt(pos))) throw error("leading zero in number");
        } else if (isDigit(c)) {
            while (pos < text.length() && isDigit(text.charAt(pos))) pos++;
        } else {
            throw error("'-' without digits");
        }
        boolean integral = true;
        if (pos < text.length() && text.charAt(pos) == '.') {
            integral = false;
            pos++;
            if (pos >= text.length() || !isDigit(text.charAt(pos))) throw error("no digits after decimal point");
            while (pos < text.length() && isDigit(text.charAt(pos))) pos++;
        }
        if (pos < text.length() && (text.charAt(pos) == 'e' || text.charAt(pos) == 'E')) {
            integral = false;
            pos++;
            if (pos < text.length() && (text.charAt(pos) == '+' || text.charAt(pos) == '-')) pos++;
            if (pos >= text.length() || !isDigit(text.charAt(pos))) throw error("no digits in exponent");
            while (pos < text.length() && isDigit(text.charAt(pos))) pos++;
        }
        String literal = text.substring(start, pos);
        if (integral && literal.length() <= 20) {
            try {
                return Long.parseLong(literal);
            } catch (NumberFormatException ignored) {
                // does not fit in a long: becomes a Double below
            }
        }
        double d;
        try {
            d = Double.parseDouble(literal);
        } catch (NumberFormatException e) {
            pos = start;
            throw error("invalid number");
        }
        if (Double.isInfinite(d)) {
            pos = start;
            throw error("number out of range: " + shorten(literal));
        }
        return d;
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private static String describe(char c) {
        if (c >= 0x20 && c < 0x7f) return "'" + c + "'";
        return String.format("U+%04X", (int) c);
    }

    private static String shorten(String s) {
        return s.length() <= 60 ? s : s.substring(0, 57) + "...";
    }

    // ------------------------------------------------------------------------------------ writer

    /** Writes a value as compact JSON. See the class comment for supported types and key order. */
    public static String write(Object value) {
        StringBuilder sb = new StringBuilder();
        write(sb, value, false, 0, 0);
        return sb.toString();
    }

    /** Writes a value as JSON indented by two spaces per level. */
    public static String writePretty(Object value) {
        StringBuilder sb = new StringBuilder();
        write(sb, value, true, 0, 0);
        return sb.toString();
    }

    private static void newline(StringBuilder sb, boolean pretty, int indent) {
        if (!pretty) return;
        sb.append('\n');
        for (int i = 0; i < indent; i++) sb.append("  ");
    }

    private static void write(StringBuilder sb, Object v, boolean pretty, int indent, int depth) {
        if (depth > 1000) throw new IllegalArgumentException("value nested too deeply (cyclic?)");
        switch (v) {
            case null -> sb.append("null");
            case String s -> quote(sb, s);
            case Character ch -> quote(sb, String.valueOf(ch));
            case Boolean b -> sb.append(b.booleanValue());
            case Long l -> sb.append(l.longValue());
            case Integer i -> sb.append(i.intValue());
            case Short s -> sb.append(s.shortValue());
            case Byte b -> sb.append(b.byteValue());
            case BigInteger bi -> sb.append(bi);
            case BigDecimal bd -> sb.append(bd.toString());
            case Float f -> {
                if (!Float.isFinite(f)) throw new IllegalArgumentException("JSON cannot hold " + f);
                sb.append(Float.toString(f));
            }
            case Double d -> {
                if (!Double.isFinite(d)) throw new IllegalArgumentException("JSON cannot hold " + d);
                sb.append(Double.toString(d));
            }
            case Map<?, ?> m -> writeMap(sb, m, pretty, indent, depth);
            case Collection<?> c -> {
                sb.append('[');
                boolean first = true;
                for (Object o : c) {
                    if (!first) sb.append(',');
                    first = false;
                    newline(sb, pretty, indent + 1);
                    write(sb, o, pretty, indent + 1, depth + 1);
                }
                if (!first) newline(sb, pretty, indent);
                sb.append(']');
            }
            case int[] a -> writeArray(sb, a.length, i -> sb.append(a[i]), pretty, indent);
            case long[] a -> writeArray(sb, a.length, i -> sb.append(a[i]), pretty, indent);
            case float[] a -> writeArray(sb, a.length, i -> write(sb, a[i], false, 0, depth + 1), pretty, indent);
            case double[] a -> writeArray(sb, a.length, i -> write(sb, a[i], false, 0, depth + 1), pretty, indent);
            case Object[] a -> write(sb, java.util.Arrays.asList(a), pretty, indent, depth);
            case Number n -> {
                double d = n.doubleValue();
                if (!Double.isFinite(d)) throw new IllegalArgumentException("JSON cannot hold " + n);
                sb.append(Double.toString(d));
            }
            default -> throw new IllegalArgumentException("cannot write " + v.getClass().getName() + " as JSON");
        }
    }

    private interface IndexWriter {
        void write(int i);
    }

    private static void writeArray(StringBuilder sb, int n, IndexWriter w, boolean pretty, int indent) {
        sb.append('[');
        for (int i = 0; i < n; i++) {
            if (i > 0) sb.append(',');
            newline(sb, pretty, indent + 1);
            w.write(i);
        }
        if (n > 0) newline(sb, pretty, indent);
        sb.append(']');
    }

    private static void writeMap(StringBuilder sb, Map<?, ?> m, boolean pretty, int indent, int depth) {
        Map<?, ?> ordered = m;
        if (!(m instanceof LinkedHashMap) && !(m instanceof SortedMap)) {
            TreeMap<String, Object> sorted = new TreeMap<>();
            for (Map.Entry<?, ?> e : m.entrySet()) sorted.put(keyOf(e.getKey()), e.getValue());
            ordered = sorted;
        }
        sb.append('{');
        boolean first = true;
        for (Map.Entry<?, ?> e : ordered.entrySet()) {
            if (!first) sb.append(',');
            first = false;
            newline(sb, pretty, indent + 1);
            quote(sb, keyOf(e.getKey()));
            sb.append(pretty ? ": " : ":");
            write(sb, e.getValue(), pretty, indent + 1, depth + 1);
        }
        if (!first) newline(sb, pretty, indent);
        sb.append('}');
    }

    private static String keyOf(Object k) {
        if (k instanceof String s) return s;
        throw new IllegalArgumentException("JSON object keys must be strings, found " + (k == null ? "null" : k.getClass().getName()));
    }

    /** Appends a JSON string literal, escaping quotes, backslashes, controls and lone surrogates. */
    public static void quote(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                default -> {
                    if (c < 0x20 || c == 0x7f || c == '\u2028' || c == '\u2029') {
                        appendUnicodeEscape(sb, c);
                    } else if (Character.isHighSurrogate(c) && i + 1 < s.length()
                            && Character.isLowSurrogate(s.charAt(i + 1))) {
                        sb.append(c).append(s.charAt(++i));
                    } else if (Character.isSurrogate(c)) {
                        appendUnicodeEscape(sb, c);
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }

    private static void appendUnicodeEscape(StringBuilder sb, char c) {
        sb.append("\\u");
        String hex = Integer.toHexString(c);
        for (int k = hex.length(); k < 4; k++) sb.append('0');
        sb.append(hex);
    }

    // ----------------------------------------------------------------------------- typed access

    /** A short name for the JSON type of a parsed value, for messages. */
    public static String typeName(Object v) {
        return switch (v) {
            case null -> "null";
            case Map<?, ?> m -> "object";
            case List<?> l -> "array";
            case String s -> "string";
            case Boolean b -> "boolean";
            case Number n -> "number";
            default -> v.getClass().getSimpleName();
        };
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> castObject(Object v) {
        return (Map<String, Object>) v;
    }

    @SuppressWarnings("unchecked")
    private static List<Object> castList(Object v) {
        return (List<Object>) v;
    }

    /** The value as an object; {@code what} names it in the message. */
    public static Map<String, Object> asObject(Object v, String what, String source) {
        if (v instanceof Map) return castObject(v);
        throw new InvalidInputException(source, what + ": expected an object but found " + typeName(v));
    }

    /** The value as an array. */
    public static List<Object> asList(Object v, String what, String source) {
        if (v instanceof List) return castList(v);
        throw new InvalidInputException(source, what + ": expected an array but found " + typeName(v));
    }

    /** The value as a string. */
    public static String asString(Object v, String what, String source) {
        if (v instanceof String s) return s;
        throw new InvalidInputException(source, what + ": expected a string but found " + typeName(v));
    }

    /** The value as a boolean. */
    public static boolean asBoolean(Object v, String what, String source) {
        if (v instanceof Boolean b) return b;
        throw new InvalidInputException(source, what + ": expected true or false but found " + typeName(v));
    }

    /** The value as an integer (a JSON number without fraction or exponent that fits in a long). */
    public static long asLong(Object v, String what, String source) {
        if (v instanceof Long l) return l;
        if (v instanceof Double d) {
            throw new InvalidInputException(source, what + ": expected an integer but found " + d);
        }
        throw new InvalidInputException(source, what + ": expected an integer but found " + typeName(v));
    }

    /** The value as an integer in [min, max]. */
    public static long asLong(Object v, String what, String source, long min, long max) {
        long l = asLong(v, what, source);
        if (l < min || l > max) {
            throw new InvalidInputException(source, what + ": " + l + " is outside [" + min + ", " + max + "]");
        }
        return l;
    }

    /** The value as an int. */
    public static int asInt(Object v, String what, String source) {
        return (int) asLong(v, what, source, Integer.MIN_VALUE, Integer.MAX_VALUE);
    }

    /** The value as a double (any JSON number). */
    public static double asDouble(Object v, String what, String source) {
        if (v instanceof Number n) return n.doubleValue();
        throw new InvalidInputException(source, what + ": expected a number but found " + typeName(v));
    }

    /** A required field of an object. */
    public static Object require(Map<String, Object> obj, String key, String source) {
        if (!obj.containsKey(key)) throw new InvalidInputException(source, "missing field \"" + key + "\"");
        return obj.get(key);
    }

    public static String getString(Map<String, Object> obj, String key, String source) {
        return asString(require(obj, key, source), "field \"" + key + "\"", source);
    }

    public static long getLong(Map<String, Object> obj, String key, String source) {
        return asLong(require(obj, key, source), "field \"" + key + "\"", source);
    }

    public static int getInt(Map<String, Object> obj, String key, String source) {
        return asInt(require(obj, key, source), "field \"" + key + "\"", source);
    }

    public static double getDouble(Map<String, Object> obj, String key, String source) {
        return asDouble(require(obj, key, source), "field \"" + key + "\"", source);
    }

    public static boolean getBoolean(Map<String, Object> obj, String key, String source) {
        return asBoolean(require(obj, key, source), "field \"" + key + "\"", source);
    }

    public static Map<String, Object> getObject(Map<String, Object> obj, String key, String source) {
        return asObject(require(obj, key, source), "field \"" + key + "\"", source);
    }

    public static List<Object> getList(Map<String, Object> obj, String key, String source) {
        return asList(require(obj, key, source), "field \"" + key + "\"", source);
    }

    /** An optional string field; absent or null gives the default. */
    public static String optString(Map<String, Object> obj, String key, String fallback, String source) {
        Object v = obj.get(key);
        return v == null ? fallback : asString(v, "field \"" + key + "\"", source);
    }

    /** An optional integer field; absent or null gives the default. */
    public static long optLong(Map<String, Object> obj, String key, long fallback, String source) {
        Object v = obj.get(key);
        return v == null ? fallback : asLong(v, "field \"" + key + "\"", source);
    }

    /** An optional number field; absent or null gives the default. */
    public static double optDouble(Map<String, Object> obj, String key, double fallback, String source) {
        Object v = obj.get(key);
        return v == null ? fallback : asDouble(v, "field \"" + key + "\"", source);
    }

    /** An optional boolean field; absent or null gives the default. */
    public static boolean optBoolean(Map<String, Object> obj, String key, boolean fallback, String source) {
        Object v = obj.get(key);
        return v == null ? fallback : asBoolean(v, "field \"" + key + "\"", source);
    }
}
