package dev.shiftaddvit.bench;

import dev.shiftaddvit.bench.ShiftAddVariants.AlphaFrom;
import dev.shiftaddvit.bench.ShiftAddVariants.Conversion;
import dev.shiftaddvit.bench.ShiftAddVariants.Route;
import dev.shiftaddvit.bench.ShiftAddVariants.Variant;
import dev.shiftaddvit.model.Configs;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/** The options of {@link EngineShootout}; see its class comment. */
record ShootoutOptions(List<String> models, Set<Variant> variants, int threads, int samples, int batch, int rounds,
                       Path torchscriptDir, boolean weightsOnly, int calibrationImages, Conversion conversion,
                       List<Route> routes, int imgSize) {

    static ShootoutOptions parse(String... args) {
        List<String> models = List.of("deit_tiny", "pvt_v2_b0_msa", "pvt_v2_b0");
        Set<Variant> variants = EnumSet.allOf(Variant.class);
        int threads = 2;
        int samples = 41;
        int batch = 32;
        int rounds = 3;
        Path torch = null;
        boolean weightsOnly = false;
        int calibration = 8;
        boolean keepLast = false;
        AlphaFrom alpha = AlphaFrom.ENERGY;
        List<Route> routes = List.of(Route.ROUTER);
        int imgSize = 0;
        for (String arg : args) {
            int eq = arg.indexOf('=');
            String key = eq < 0 ? arg : arg.substring(0, eq);
            String value = eq < 0 ? null : arg.substring(eq + 1);
            switch (key) {
                case "--models" -> models = List.of(need(key, value).split(","));
                case "--variants" -> {
                    variants = EnumSet.noneOf(Variant.class);
                    for (String v : need(key, value).split(",")) variants.add(Variant.parse(v));
                }
                case "--threads" -> threads = positive(key, value);
                case "--samples" -> samples = positive(key, value);
                case "--batch" -> batch = positive(key, value);
                case "--rounds" -> rounds = positive(key, value);
                case "--torchscript-dir" -> torch = Path.of(need(key, value));
                case "--weights-only" -> weightsOnly = true;
                case "--calibration-images" -> calibration = positive(key, value);
                case "--keep-last-softmax" -> keepLast = true;
                case "--alpha-from" -> alpha = choice(key, value, AlphaFrom.class);
                case "--img-size" -> imgSize = positive(key, value);
                case "--moe-route" -> {
                    List<Route> rs = new ArrayList<>();
                    for (String r : need(key, value).split(",")) rs.add(choice(key, r, Route.class));
                    routes = List.copyOf(rs);
                }
                default -> throw new IllegalArgumentException("unknown option " + arg);
            }
        }
        List<String> known = new ArrayList<>();
        Configs.names().forEach(known::add);
        for (String m : models) {
            if (!known.contains(m)) {
                throw new IllegalArgumentException("unknown model " + m + " (known: " + String.join(", ", known) + ")");
            }
        }
        if (weightsOnly && torch == null) throw new IllegalArgumentException("--weights-only needs --torchscript-dir=DIR");
        return new ShootoutOptions(models, variants, threads, samples, batch, rounds, torch, weightsOnly, calibration,
                new Conversion(keepLast, alpha, batch), routes, imgSize);
    }

    /** Timed calls at batch 1 and at the large batch (a quarter as many, at least one per round). */
    Rounds.Plan plan() {
        return new Rounds.Plan(rounds, new int[]{samples, Math.max(rounds, samples / 4)}, new int[]{3, 1});
    }

    private static String need(String key, String value) {
        if (value == null || value.isEmpty()) throw new IllegalArgumentException(key + " needs a value: " + key + "=...");
        return value;
    }

    private static int positive(String key, String value) {
        int n;
        try {
            n = Integer.parseInt(need(key, value));
        } catch (NumberFormatException e) {
            n = 0;
        }
        if (n < 1) throw new IllegalArgumentException(key + " must be a positive integer, got \"" + value + "\"");
        return n;
    }

    private static <E extends Enum<E>> E choice(String key, String value, Class<E> type) {
        List<String> names = new ArrayList<>();
        for (E e : type.getEnumConstants()) {
            String n = e.name().toLowerCase(Locale.ROOT);
            if (n.equals(need(key, value))) return e;
            names.add(n);
        }
        throw new IllegalArgumentException(key + " must be one of " + String.join(", ", names) + ", got \"" + value + "\"");
    }
}
