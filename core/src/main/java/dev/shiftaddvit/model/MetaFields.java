package dev.shiftaddvit.model;

import java.util.Arrays;
import java.util.Map;
import java.util.stream.Collectors;

/** Typed reads of config fields stored as strings in checkpoint metadata. */
final class MetaFields {
    private final Map<String, String> meta;
    private final String source;

    MetaFields(Map<String, String> meta, String source) {
        this.meta = meta;
        this.source = source;
    }

    String string(String key) {
        String v = meta.get(key);
        if (v == null) throw new ConfigException(source + ": metadata lacks \"" + key + "\"");
        return v;
    }

    int integer(String key) {
        try {
            return Integer.parseInt(string(key).trim());
        } catch (NumberFormatException e) {
            throw new ConfigException(source + ": metadata \"" + key + "\" is not an integer: " + meta.get(key));
        }
    }

    double real(String key) {
        try {
            return Double.parseDouble(string(key).trim());
        } catch (NumberFormatException e) {
            throw new ConfigException(source + ": metadata \"" + key + "\" is not a number: " + meta.get(key));
        }
    }

    int[] ints(String key) {
        String v = string(key);
        try {
            return Arrays.stream(v.split(",")).map(String::trim).mapToInt(Integer::parseInt).toArray();
        } catch (NumberFormatException e) {
            throw new ConfigException(source + ": metadata \"" + key + "\" is not a list of integers: " + v);
        }
    }

    float[] floats(String key) {
        String[] parts = string(key).split(",");
        float[] out = new float[parts.length];
        try {
            for (int i = 0; i < parts.length; i++) out[i] = Float.parseFloat(parts[i].trim());
        } catch (NumberFormatException e) {
            throw new ConfigException(source + ": metadata \"" + key + "\" is not a list of numbers: " + meta.get(key));
        }
        return out;
    }

    static String join(int[] v) {
        return Arrays.stream(v).mapToObj(Integer::toString).collect(Collectors.joining(","));
    }

    static String join(float[] v) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < v.length; i++) sb.append(i == 0 ? "" : ",").append(v[i]);
        return sb.toString();
    }
}
