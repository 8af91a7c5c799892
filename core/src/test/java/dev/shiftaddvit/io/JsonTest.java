package dev.shiftaddvit.io;

import static dev.shiftaddvit.io.InvalidInputAssertions.assertInvalid;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTest {
    private static final String SRC = "test.json";

    @Test
    void parsesAllValueTypesWithTheNumberRule() {
        Object v = Json.parse(" {\"a\": 1, \"b\": -2.5, \"c\": [true, false, null], \"d\": \"x\\n\\u00e9\\ud83d\\ude00\","
                + " \"e\": 1e2, \"f\": 12345678901234567890, \"g\": -0, \"h\": {}} ", SRC);
        Map<String, Object> m = Json.asObject(v, "root", SRC);
        assertInstanceOf(LinkedHashMap.class, m);
        assertEquals(List.of("a", "b", "c", "d", "e", "f", "g", "h"), List.copyOf(m.keySet()));
        assertEquals(1L, m.get("a"));
        assertEquals(-2.5, m.get("b"));
        assertEquals(java.util.Arrays.asList(true, false, null), m.get("c"));
        assertEquals("x\n\u00e9\ud83d\ude00", m.get("d"));
        assertEquals(100.0, m.get("e"));
        assertEquals(1.2345678901234567e19, m.get("f"));
        assertEquals(0L, m.get("g"));
        assertEquals(Map.of(), m.get("h"));
        assertEquals(Long.MAX_VALUE, Json.parse("9223372036854775807", SRC));
        assertEquals(Long.MIN_VALUE, Json.parse("-9223372036854775808", SRC));
        assertInstanceOf(Double.class, Json.parse("9223372036854775808", SRC));
        assertNull(Json.parse("null", SRC));
    }

    @Test
    void writesWithEscapingAndDeterministicOrder() {
        LinkedHashMap<String, Object> m = new LinkedHashMap<>();
        m.put("z", "q\"\\/\n\t\u0001\u2028");
        m.put("a", new int[] {1, 2});
        m.put("n", null);
        m.put("d", 0.5);
        m.put("f", 1.5f);
        m.put("l", List.of(true, 3L));
        HashMap<String, Object> unordered = new HashMap<>();
        unordered.put("b", 1);
        unordered.put("a", 2);
        m.put("u", unordered);
        String s = Json.write(m);
        assertEquals("{\"z\":\"q\\\"\\\\/\\n\\t\\u0001\\u2028\",\"a\":[1,2],\"n\":null,\"d\":0.5,\"f\":1.5,"
                + "\"l\":[true,3],\"u\":{\"a\":2,\"b\":1}}", s);
        Object back = Json.parse(s, SRC);
        assertEquals("q\"\\/\n\t\u0001\u2028", ((Map<?, ?>) back).get("z"));
        assertEquals(Json.parse(Json.writePretty(m), SRC), back);
        assertThrows(IllegalArgumentException.class, () -> Json.write(Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> Json.write(Map.of(1, 2)));
        assertEquals("\"\\ud800\"", Json.write("\ud800"));
        assertEquals("[\"a\",null,[1.5,2.0]]", Json.write(new Object[] {"a", null, new double[] {1.5, 2}}));
    }

    @Test
    void nestingUpToTheLimitIsAcceptedAndBeyondRejected() {
        String ok = "[".repeat(Json.MAX_DEPTH) + "]".repeat(Json.MAX_DEPTH);
        Json.parse(ok, SRC);
        String deep = "[".repeat(Json.MAX_DEPTH + 1) + "]".repeat(Json.MAX_DEPTH + 1);
        assertInvalid(SRC, "nesting deeper than 64", () -> Json.parse(deep, SRC));
        String veryDeep = "{\"a\":".repeat(100_000);
        assertInvalid(SRC, "nesting", () -> Json.parse(veryDeep, SRC));
    }

    @Test
    void rejectsMalformedTextNamingSourceAndOffset() {
        assertInvalid(SRC, "offset 3: trailing characters", () -> Json.parse("{} {}", SRC));
        assertInvalid(SRC, "trailing", () -> Json.parse("1 2", SRC));
        assertInvalid(SRC, "empty input", () -> Json.parse("  ", SRC));
        assertInvalid(SRC, "invalid escape", () -> Json.parse("\"\\x\"", SRC));
        assertInvalid(SRC, "invalid hex digit", () -> Json.parse("\"\\u12g4\"", SRC));
        assertInvalid(SRC, "truncated \\u escape", () -> Json.parse("\"\\u12", SRC));
        assertInvalid(SRC, "lone low surrogate", () -> Json.parse("\"\\udc00\"", SRC));
        assertInvalid(SRC, "without a low surrogate", () -> Json.parse("\"\\ud800x\"", SRC));
        assertInvalid(SRC, "lone surrogate", () -> Json.parse("\"\ud800\"", SRC));
        assertInvalid(SRC, "offset 8: duplicate key \"a\"", () -> Json.parse("{\"a\":1, \"a\":2}", SRC));
        assertInvalid(SRC, "leading zero", () -> Json.parse("01", SRC));
        assertInvalid(SRC, "unexpected character 'N'", () -> Json.parse("NaN", SRC));
        assertInvalid(SRC, "invalid literal", () -> Json.parse("tru", SRC));
        assertInvalid(SRC, "unterminated string", () -> Json.parse("\"abc", SRC));
        assertInvalid(SRC, "unescaped control character", () -> Json.parse("\"a\nb\"", SRC));
        assertInvalid(SRC, "expected ',' or '}'", () -> Json.parse("{\"a\":1 \"b\":2}", SRC));
        assertInvalid(SRC, "unexpected character ']'", () -> Json.parse("[1,]", SRC));
        assertInvalid(SRC, "expected a string key", () -> Json.parse("{a:1}", SRC));
        assertInvalid(SRC, "no digits after decimal point", () -> Json.parse("1.", SRC));
        assertInvalid(SRC, "no digits in exponent", () -> Json.parse("1e+", SRC));
        assertInvalid(SRC, "out of range", () -> Json.parse("1e400", SRC));
        assertInvalid(SRC, "'-' without digits", () -> Json.parse("-", SRC));
        assertInvalid(SRC, "unexpected end of input", () -> Json.parse("[1,", SRC));
        assertInvalid(SRC, "unexpected character U+FEFF", () -> Json.parse("\ufeff{}", SRC));
    }

    @Test
    void typedAccessorsNameTheField() {
        Map<String, Object> m = Json.parseObject("{\"n\": 3, \"x\": 1.5, \"s\": \"t\", \"big\": 4294967296}", SRC);
        assertEquals(3, Json.getInt(m, "n", SRC));
        assertEquals(1.5, Json.getDouble(m, "x", SRC));
        assertEquals("t", Json.getString(m, "s", SRC));
        assertEquals(7, Json.optLong(m, "absent", 7, SRC));
        assertInvalid(SRC, "field \"x\": expected an integer but found 1.5", () -> Json.getLong(m, "x", SRC));
        assertInvalid(SRC, "field \"s\": expected a number", () -> Json.getDouble(m, "s", SRC));
        assertInvalid(SRC, "missing field \"q\"", () -> Json.getString(m, "q", SRC));
        assertInvalid(SRC, "outside", () -> Json.getInt(m, "big", SRC));
        assertInvalid(SRC, "expected a JSON object but found array", () -> Json.parseObject("[]", SRC));
    }
}
