package dev.shiftaddvit.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.shiftaddvit.model.ConfigException;
import dev.shiftaddvit.model.ModelConfig;
import dev.shiftaddvit.model.convert.ImportSource;
import dev.shiftaddvit.model.convert.Importer;
import dev.shiftaddvit.model.convert.Naming;
import dev.shiftaddvit.tensor.Tensor;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Coverage-guided fuzzing of an imported model's {@code config.json} (Hugging Face's or timm's)
 * beside a small Hugging Face ViT weights file: reading the config and loading the weights into the
 * model it describes must succeed, refuse the input ({@link dev.shiftaddvit.io.InvalidInputException}
 * naming config.json or the weights) or reject the config ({@link ConfigException}). Seeds in
 * {@code ImportConfigFuzzTestInputs/}: the Hugging Face ViT and PVTv2 configs of the import
 * fixtures, a timm hub config and our flat metadata JSON. How to fuzz: see {@link TorchCheckpointFuzzTest}.
 */
class ImportConfigFuzzTest {
    private static final Path WEIGHTS = weights();
    private static final Path CONFIG = WEIGHTS.resolveSibling("config.json");
    private static final Map<String, Tensor> TENSORS = ImportSource.readTensors(WEIGHTS);
    private static final Naming NAMING = Naming.detect(TENSORS.keySet());

    @FuzzTest(maxDuration = "10s")
    @Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void load(byte[] input) throws Exception {
        Files.write(CONFIG, input);
        ModelConfig[] config = new ModelConfig[1];
        FuzzOracle.check(CONFIG.toString(), FuzzOracle.BASE_ALLOWANCE + 256L * input.length,
                () -> config[0] = rejectedAsNull(() -> ImportSource.config(null, WEIGHTS)));
        if (config[0] == null) return;
        // Importer.load builds only configs of at most 2 x stored + 1,000,000 parameters
        // (ModelConfig.requireLoadableFrom); 16 bytes a parameter cover its value, its gradient and the
        // imported copy of its tensor.
        long stored = TENSORS.values().stream().mapToLong(Tensor::size).sum();
        FuzzOracle.check(WEIGHTS.toString(), FuzzOracle.BASE_ALLOWANCE + 16 * (1_000_000 + 2 * stored),
                () -> rejectedAsNull(() -> Importer.load(config[0], TENSORS, NAMING, WEIGHTS.toString())));
    }

    /** The value, or null when the config is rejected (a ConfigException is an allowed outcome). */
    private static <T> T rejectedAsNull(java.util.function.Supplier<T> s) {
        try {
            return s.get();
        } catch (ConfigException e) {
            return null;
        }
    }

    /** The Hugging Face ViT fixture's weights, alone in a fresh folder (the config is the fuzzer's). */
    private static Path weights() {
        try (InputStream in = ImportConfigFuzzTest.class.getResourceAsStream("/import/vit_hf/model.safetensors")) {
            Path dir = Files.createTempDirectory("shiftaddvit-fuzz-import-");
            dir.toFile().deleteOnExit();
            Path w = dir.resolve("model.safetensors");
            Files.write(w, in.readAllBytes());
            w.toFile().deleteOnExit();
            dir.resolve("config.json").toFile().deleteOnExit();
            return w;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
