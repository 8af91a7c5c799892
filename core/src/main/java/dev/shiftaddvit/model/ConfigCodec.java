package dev.shiftaddvit.model;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.function.Function;
import java.util.function.ObjDoubleConsumer;
import java.util.function.ObjIntConsumer;
import java.util.function.Predicate;
import java.util.function.ToDoubleFunction;
import java.util.function.ToIntFunction;
import java.util.stream.Collectors;

/**
 * A config family's checkpoint metadata, both directions from one list: "arch" and "name" first, then
 * each field in the order the list gives, which is the order files on disk carry them. Reading goes
 * through the family's builder, so the canonical constructor still validates the result.
 *
 * @param <C> the config record
 * @param <B> its builder
 */
final class ConfigCodec<C extends ModelConfig, B> {
    private final String arch;
    private final Function<String, B> builder;
    private final Function<B, C> build;
    private final List<Field<C, B>> fields;

    ConfigCodec(String arch, Function<String, B> builder, Function<B, C> build, List<Field<C, B>> fields) {
        this.arch = arch;
        this.builder = builder;
        this.build = build;
        this.fields = List.copyOf(fields);
    }

    Map<String, String> toMetadata(C config) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(ModelKeys.ARCH, arch);
        m.put(ModelKeys.NAME, config.name());
        for (Field<C, B> f : fields) m.put(f.key(), f.write().apply(config));
        return m;
    }

    /**
     * Every missing or malformed field is reported in one ConfigException, in field order: missing keys
     * together ("metadata lacks "a", "b""), then each malformed value as {@link MetaFields} words it. A
     * single problem reads exactly as MetaFields words it alone.
     */
    C fromMetadata(Map<String, String> meta, String source) {
        List<String> missing = new ArrayList<>();
        List<ConfigException> malformed = new ArrayList<>();
        if (!meta.containsKey(ModelKeys.NAME)) missing.add(ModelKeys.NAME);
        MetaFields f = new MetaFields(meta, source);
        B b = builder.apply(meta.get(ModelKeys.NAME));
        for (Field<C, B> field : fields) {
            if (!meta.containsKey(field.key())) {
                missing.add(field.key());
                continue;
            }
            try {
                field.read().accept(b, f);
            } catch (ConfigException e) {
                malformed.add(e);
            }
        }
        if (missing.isEmpty() && malformed.size() == 1) throw malformed.getFirst();
        if (!missing.isEmpty() || !malformed.isEmpty()) {
            throw new ConfigException(source + ": " + problems(missing, malformed, source));
        }
        return build.apply(b);
    }

    private static String problems(List<String> missing, List<ConfigException> malformed, String source) {
        List<String> parts = new ArrayList<>();
        if (!missing.isEmpty()) {
            parts.add("metadata lacks " + missing.stream().map(k -> "\"" + k + "\"").collect(Collectors.joining(", ")));
        }
        // MetaFields prefixes each message with the source, which the joined message names once.
        String prefix = source + ": ";
        for (ConfigException e : malformed) {
            String m = e.getMessage();
            parts.add(m.startsWith(prefix) ? m.substring(prefix.length()) : m);
        }
        return String.join("; ", parts);
    }

    /** One field: its key, its value as written, and how the parsed value reaches the builder. */
    record Field<C, B>(String key, Function<C, String> write, BiConsumer<B, MetaFields> read) {
        static <C, B> Field<C, B> integer(String key, ToIntFunction<C> get, ObjIntConsumer<B> set) {
            return new Field<>(key, c -> Integer.toString(get.applyAsInt(c)), (b, f) -> set.accept(b, f.integer(key)));
        }

        static <C, B> Field<C, B> real(String key, ToDoubleFunction<C> get, ObjDoubleConsumer<B> set) {
            return new Field<>(key, c -> Double.toString(get.applyAsDouble(c)), (b, f) -> set.accept(b, f.real(key)));
        }

        /** A float field: written at float precision, parsed as a double and narrowed. */
        static <C, B> Field<C, B> real32(String key, Function<C, Float> get, BiConsumer<B, Float> set) {
            return new Field<>(key, c -> Float.toString(get.apply(c)), (b, f) -> set.accept(b, (float) f.real(key)));
        }

        /** Anything but "true" (any case) reads as false, as Boolean.parseBoolean has it. */
        static <C, B> Field<C, B> flag(String key, Predicate<C> get, BiConsumer<B, Boolean> set) {
            return new Field<>(key, c -> Boolean.toString(get.test(c)),
                    (b, f) -> set.accept(b, Boolean.parseBoolean(f.string(key))));
        }

        static <C, B> Field<C, B> ints(String key, Function<C, int[]> get, BiConsumer<B, int[]> set) {
            return new Field<>(key, c -> MetaFields.join(get.apply(c)), (b, f) -> set.accept(b, f.ints(key)));
        }

        static <C, B> Field<C, B> floats(String key, Function<C, float[]> get, BiConsumer<B, float[]> set) {
            return new Field<>(key, c -> MetaFields.join(get.apply(c)), (b, f) -> set.accept(b, f.floats(key)));
        }
    }
}
