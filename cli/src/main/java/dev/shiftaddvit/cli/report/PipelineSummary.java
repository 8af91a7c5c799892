package dev.shiftaddvit.cli.report;

import dev.shiftaddvit.io.AtomicFiles;
import dev.shiftaddvit.io.InvalidInputException;
import dev.shiftaddvit.io.Json;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The results of a pipeline run: one {@link StageResult} per stage, in run order, and free-form run
 * information (machine, date, command line, α per layer, ...) kept in insertion order.
 */
public record PipelineSummary(List<StageResult> stages, Map<String, String> info) {
    /** Written into every summary so that a later, incompatible layout is refused rather than misread. */
    public static final int FORMAT_VERSION = 1;

    public PipelineSummary {
        stages = List.copyOf(stages);
        if (stages.isEmpty()) throw new IllegalArgumentException("a pipeline summary needs at least one stage");
        Set<String> seen = new HashSet<>();
        for (StageResult s : stages) {
            if (!seen.add(s.stage())) throw new IllegalArgumentException("stage \"" + s.stage() + "\" appears twice");
        }
        Map<String, String> copy = new LinkedHashMap<>();
        info.forEach((k, v) -> copy.put(Objects.requireNonNull(k, "info key"), Objects.requireNonNull(v, k)));
        info = Collections.unmodifiableMap(copy);
    }

    /** The stage the ratios compare against: "dense" when present, else the first stage. */
    public StageResult baseline() {
        return stages.stream().filter(s -> s.stage().equals("dense")).findFirst().orElse(stages.getFirst());
    }

    /** Whether any stage recorded a fine-tune curve. */
    public boolean hasHistory() {
        return stages.stream().anyMatch(s -> !s.history().isEmpty());
    }

    // ------------------------------------------------------------------------------------ writing

    /** The summary as indented JSON; non-finite numbers (the share of a stage without MoE) become null. */
    public String toJson() {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("format_version", FORMAT_VERSION);
        List<Object> rows = new ArrayList<>();
        for (StageResult s : stages) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("stage", s.stage());
            r.put("model_file", s.modelFile());
            r.put("top1", finite(s.top1()));
            r.put("eval_images", s.evalImages());
            r.put("images_per_second", finite(s.imagesPerSecond()));
            r.put("latency_ms", finite(s.latencyMs()));
            r.put("mults_per_image", s.multsPerImage());
            r.put("adds_per_image", s.addsPerImage());
            r.put("shifts_per_image", s.shiftsPerImage());
            r.put("energy_uj_per_image", finite(s.energyMicrojoulesPerImage()));
            r.put("weight_bytes", s.weightBytes());
            r.put("shift_token_share", finite(s.shiftTokenShare()));
            r.put("epochs", s.epochs());
            r.put("train_minutes", finite(s.trainMinutes()));
            List<Object> hist = new ArrayList<>();
            for (EpochPoint p : s.history()) {
                Map<String, Object> h = new LinkedHashMap<>();
                h.put("epoch", p.epoch());
                h.put("train_loss", finite(p.trainLoss()));
                h.put("train_acc", finite(p.trainAcc()));
                h.put("test_top1", finite(p.testTop1()));
                hist.add(h);
            }
            r.put("history", hist);
            rows.add(r);
        }
        o.put("stages", rows);
        o.put("info", new LinkedHashMap<>(info));
        return Json.writePretty(o) + "\n";
    }

    private static Double finite(double v) {
        return Double.isFinite(v) ? v : null;
    }

    /** Writes {@link #toJson()} to {@code file} atomically. */
    public void write(Path file) throws IOException {
        AtomicFiles.writeString(file, toJson());
    }

    // ------------------------------------------------------------------------------------ reading

    /** Reads a summary written by {@link #write}; bad content throws {@link InvalidInputException} naming the file. */
    public static PipelineSummary read(Path file) throws IOException {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(Files.readAllBytes(file))).toString();
        } catch (CharacterCodingException e) {
            throw new InvalidInputException(file.toString(), "not UTF-8 text", e);
        }
        return fromJson(text, file.toString());
    }

    /** Parses {@link #toJson()} output; {@code source} names the text in error messages. */
    public static PipelineSummary fromJson(String text, String source) {
        Map<String, Object> o = Json.parseObject(text, source);
        long version = Json.getLong(o, "format_version", source);
        if (version != FORMAT_VERSION) {
            throw new InvalidInputException(source, "summary format version " + version + " is not supported (expected "
                    + FORMAT_VERSION + ")");
        }
        // the records validate ranges; their complaints are about this file, so they name it
        try {
            List<StageResult> stages = new ArrayList<>();
            List<Object> rows = Json.getList(o, "stages", source);
            for (int i = 0; i < rows.size(); i++) {
                stages.add(stage(Json.asObject(rows.get(i), "stages[" + i + "]", source), source));
            }
            Map<String, String> info = new LinkedHashMap<>();
            Json.getObject(o, "info", source).forEach((k, v) -> info.put(k, Json.asString(v, "info." + k, source)));
            return new PipelineSummary(stages, info);
        } catch (IllegalArgumentException e) {
            throw new InvalidInputException(source, e.getMessage(), e);
        }
    }

    private static StageResult stage(Map<String, Object> r, String source) {
        List<EpochPoint> history = new ArrayList<>();
        for (Object h : Json.getList(r, "history", source)) {
            Map<String, Object> p = Json.asObject(h, "history entry", source);
            history.add(new EpochPoint(Json.getInt(p, "epoch", source), number(p, "train_loss", source),
                    number(p, "train_acc", source), number(p, "test_top1", source)));
        }
        return new StageResult(Json.getString(r, "stage", source), Json.getString(r, "model_file", source),
                number(r, "top1", source), Json.getInt(r, "eval_images", source),
                number(r, "images_per_second", source), number(r, "latency_ms", source),
                Json.getLong(r, "mults_per_image", source), Json.getLong(r, "adds_per_image", source),
                Json.getLong(r, "shifts_per_image", source), number(r, "energy_uj_per_image", source),
                Json.getLong(r, "weight_bytes", source), number(r, "shift_token_share", source),
                Json.getInt(r, "epochs", source), number(r, "train_minutes", source), history);
    }

    /** A required number field where null stands for NaN, the inverse of {@link #finite}. */
    private static double number(Map<String, Object> obj, String key, String source) {
        Object v = Json.require(obj, key, source);
        return v == null ? Double.NaN : Json.asDouble(v, "field \"" + key + "\"", source);
    }
}
