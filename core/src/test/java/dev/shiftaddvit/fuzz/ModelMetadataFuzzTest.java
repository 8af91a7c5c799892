package dev.shiftaddvit.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.shiftaddvit.checkpoint.Checkpoints;
import dev.shiftaddvit.io.Safetensors;
import dev.shiftaddvit.io.SafetensorsFile;
import dev.shiftaddvit.model.Configs;
import dev.shiftaddvit.model.Model;
import dev.shiftaddvit.model.PvtV2Config;
import dev.shiftaddvit.model.Reparam;
import dev.shiftaddvit.shiftadd.MoeLinear;
import dev.shiftaddvit.tensor.Tensor;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.StringJoiner;
import java.util.TreeMap;

/**
 * Coverage-guided fuzzing of checkpoint metadata: the tensors of a valid small checkpoint (a dense
 * narrow {@code pvt_v2_fmnist}, or one with add-attention and MoE so that the {@code shiftadd.*} keys
 * exist) stay as they are while the fuzzer replaces the values of chosen keys, adds keys and drops
 * keys; {@link Checkpoints#load} must then load the file or refuse it. The fuzzer's bytes pick
 * the edits through a {@link FuzzedDataProvider}, so the seeds in
 * {@code ModelMetadataFuzzTestInputs/} are edit scripts, not files. How to fuzz: see
 * {@link TorchCheckpointFuzzTest}.
 */
class ModelMetadataFuzzTest {
    private static final Path FILE = FuzzOracle.scratchFile(".safetensors");
    /** pvt_v2_fmnist cut to two narrow one-block stages: every key stays, and a load takes milliseconds. */
    private static final PvtV2Config SMALL = ((PvtV2Config) Configs.byName("pvt_v2_fmnist")).toBuilder()
            .embedDims(8, 16).heads(1, 2).mlpRatios(2, 2).srRatios(2, 1).depths(1, 1).build();
    private static final List<Checkpoint> BASES = List.of(dense(), converted());

    private record Checkpoint(LinkedHashMap<String, Tensor> tensors, Map<String, String> metadata) {
    }

    @FuzzTest(maxDuration = "10s")
    @Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void load(FuzzedDataProvider data) throws Exception {
        Checkpoint base = BASES.get(data.consumeInt(0, BASES.size() - 1));
        Map<String, String> meta = new LinkedHashMap<>(base.metadata());
        List<String> keys = new ArrayList<>(meta.keySet());
        for (int edits = data.consumeInt(1, 6); edits > 0; edits--) {
            switch (data.consumeInt(0, 2)) {
                case 0 -> meta.put(data.pickValue(keys), value(data));
                case 1 -> meta.put(data.pickValue(keys) + data.consumeString(8), value(data));
                default -> meta.remove(data.pickValue(keys));
            }
        }
        Safetensors.write(FILE, base.tensors(), meta);
        // A config may describe up to twice the stored values plus a million parameters
        // (ModelConfig.requireLoadableFrom); building it and reading the tensors into it allocate a few
        // times that in floats, which 16x the file size (4 bytes a value) plus 16 MB covers.
        long bound = FuzzOracle.BASE_ALLOWANCE + (16L << 20) + 16L * Files.size(FILE);
        FuzzOracle.check(FILE.toString(), bound, () -> Checkpoints.load(FILE));
    }

    /** A value as metadata holds them: a number, a list of numbers, or any string. */
    private static String value(FuzzedDataProvider data) {
        return switch (data.consumeInt(0, 4)) {
            case 0 -> Integer.toString(data.consumeInt(-2, 4096));
            case 1 -> Long.toString(data.consumeLong());
            case 2 -> Double.toString(data.consumeDouble());
            case 3 -> {
                StringJoiner j = new StringJoiner(",");
                for (int n = data.consumeInt(0, 6); n > 0; n--) j.add(Integer.toString(data.consumeInt(-2, 1024)));
                yield j.toString();
            }
            default -> data.consumeString(24);
        };
    }

    private static Checkpoint dense() {
        return saved(SMALL.build(1));
    }

    private static Checkpoint converted() {
        Model m = SMALL.build(2);
        SplittableRandom rng = new SplittableRandom(3);
        Reparam.toAddAttention(m, Reparam.AttnOptions.DEFAULT, rng);
        // Fixed α: no latency measurement.
        Reparam.toMoe(m, new Reparam.MoeOptions(true, true, MoeLinear.DEFAULT_MODE, 0.01f, new float[] {0.6f, 0.4f}, 4),
                rng);
        Tensor images = Tensor.zeros(2, 28, 28, 1);
        for (int i = 0; i < images.size(); i++) images.data()[i] = (float) rng.nextGaussian();
        Reparam.trainHashes(m, images);
        return saved(m);
    }

    /** The tensors and metadata Checkpoints.save writes for a model. */
    private static Checkpoint saved(Model m) {
        Path p = FuzzOracle.scratchFile(".safetensors");
        try {
            Checkpoints.save(p, m, null, Map.of());
            try (SafetensorsFile f = Safetensors.read(p)) {
                LinkedHashMap<String, Tensor> tensors = new LinkedHashMap<>();
                for (String name : f.names()) tensors.put(name, f.tensor(name));
                // Sorted, so that a seed picks the same keys on every run.
                return new Checkpoint(tensors, new TreeMap<>(f.metadata()));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
