package dev.shiftaddvit.checkpoint;

import dev.shiftaddvit.io.InvalidInputException;
import dev.shiftaddvit.io.Safetensors;
import dev.shiftaddvit.io.SafetensorsFile;
import dev.shiftaddvit.model.Model;
import dev.shiftaddvit.model.PvtV2Config;
import dev.shiftaddvit.model.Reparam;
import dev.shiftaddvit.shiftadd.MoeLinear;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Consumer;

import static dev.shiftaddvit.io.InvalidInputAssertions.assertInvalid;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Hostile deploy files: each problem is an InvalidInputException naming the file and the tensor. */
class DeployFileTest {
    private static final String FC1 = "stages.0.blocks.0.mlp.fc1";
    private static final String CODES = FC1 + ".experts.1.codes";

    @TempDir
    static Path dir;
    private static Path good;

    /** A raw tensor of the file being rewritten. */
    private record Raw(String dtype, int[] shape, byte[] data) {
    }

    /** The good file's content, editable, and written back as another file. */
    private static final class Content {
        final Map<String, String> meta = new LinkedHashMap<>();
        final Map<String, Raw> tensors = new LinkedHashMap<>();

        Path write(String name) throws Exception {
            Safetensors.Writer w = Safetensors.writer().metadata(meta);
            for (var e : tensors.entrySet()) w.addRaw(e.getKey(), e.getValue().dtype(), e.getValue().shape(), e.getValue().data());
            Path p = dir.resolve(name);
            w.write(p);
            return p;
        }
    }

    @BeforeAll
    static void deployFile() throws Exception {
        // Width 5 makes stage 0's fc1 [10, 5]: 250 bits, so its last byte has 6 padding bits.
        Model m = PvtV2Config.builder("tiny_pvt").imgSize(28).inChans(1).numClasses(10).embedDims(5, 10).heads(1, 2)
                .mlpRatios(2, 2).srRatios(2, 1).depths(1, 1).stemKernel(3).stemStride(2).qkvBias(true).mean(0.286f)
                .std(0.353f).build().build(1);
        SplittableRandom rng = new SplittableRandom(2);
        Reparam.toAddAttention(m, Reparam.AttnOptions.DEFAULT, rng);
        Reparam.trainHashes(m, dev.shiftaddvit.tensor.Tensor.zeros(2, 28, 28, 1));
        Reparam.toMoe(m, new Reparam.MoeOptions(true, true, MoeLinear.DEFAULT_MODE, 0f, new float[]{0.5f, 0.5f}, 1), rng);
        good = dir.resolve("good.safetensors");
        DeployFile.save(good, m, Map.of());
    }

    private static Path edited(String name, Consumer<Content> edit) throws Exception {
        Content c = new Content();
        try (SafetensorsFile f = Safetensors.read(good)) {
            c.meta.putAll(f.metadata());
            for (String t : f.names()) {
                var e = f.entry(t);
                c.tensors.put(t, new Raw(e.dtype(), e.shape(), f.rawBytes(t)));
            }
        }
        edit.accept(c);
        return c.write(name);
    }

    @Test
    void goodFileLoadsDeployed() {
        Model m = Checkpoints.load(good).model();
        for (MoeLinear l : Reparam.moeLayers(m)) assertTrue(l.isDeployed());
    }

    @Test
    void missingCodesTensor() throws Exception {
        Path p = edited("missing.safetensors", c -> c.tensors.remove(CODES));
        assertInvalid(p, CODES + ": missing tensor", () -> Checkpoints.load(p));
    }

    @Test
    void truncatedCodes() throws Exception {
        Path p = edited("truncated.safetensors", c -> {
            Raw r = c.tensors.get(CODES);
            byte[] shorter = java.util.Arrays.copyOf(r.data(), r.data().length - 1);
            c.tensors.put(CODES, new Raw("U8", new int[]{shorter.length}, shorter));
        });
        assertInvalid(p, CODES + ": ", () -> Checkpoints.load(p));
        assertInvalid(p, "bytes, expected", () -> DeployFile.load(p));
    }

    @Test
    void negativeZeroCode() throws Exception {
        Path p = edited("negzero.safetensors", c -> {
            byte[] d = c.tensors.get(CODES).data();
            d[0] = (byte) ((d[0] & ~0x1F) | 0x10);
        });
        assertInvalid(p, CODES + ": code at [0, 0] is 0x10", () -> Checkpoints.load(p));
    }

    @Test
    void nonzeroPaddingBits() throws Exception {
        Path p = edited("padding.safetensors", c -> {
            byte[] d = c.tensors.get(CODES).data();
            d[d.length - 1] |= (byte) 0x80;
        });
        assertInvalid(p, CODES + ": padding bits 2..7 of the last byte are not zero", () -> Checkpoints.load(p));
    }

    @Test
    void codesOfTheWrongDtype() throws Exception {
        Path p = edited("dtype.safetensors", c -> {
            Raw r = c.tensors.get(CODES);
            c.tensors.put(CODES, new Raw("I8", r.shape(), r.data()));
        });
        assertInvalid(p, CODES + ": dtype I8, expected U8", () -> Checkpoints.load(p));
    }

    @Test
    void floatShiftWeightsInADeployFile() throws Exception {
        Path p = edited("floats.safetensors", c -> c.tensors.put(FC1 + ".experts.1.shift",
                new Raw("F32", new int[]{1}, new byte[4])));
        assertInvalid(p, FC1 + ".experts.1.shift is stored as float", () -> Checkpoints.load(p));
    }

    @Test
    void routerShapeMismatch() throws Exception {
        String router = FC1 + ".gate.gate.weight";
        Path p = edited("router.safetensors", c -> {
            Raw r = c.tensors.get(router);
            c.tensors.put(router, new Raw("F32", new int[]{r.shape()[1], r.shape()[0]}, r.data()));
        });
        assertInvalid(p, router + " (expected [2, ", () -> Checkpoints.load(p));
    }

    @Test
    void expertShapeMismatch() throws Exception {
        String mult = FC1 + ".experts.0.weight";
        Path p = edited("mult.safetensors", c -> {
            Raw r = c.tensors.get(mult);
            c.tensors.put(mult, new Raw("F32", new int[]{r.shape()[1], r.shape()[0]}, r.data()));
        });
        assertInvalid(p, CODES + ": weight shape", () -> Checkpoints.load(p));
        // Shift codes recorded for another shape than the model's (consistent with their Mult expert).
        Path q = edited("shape.safetensors", c -> {
            String[] s = c.meta.get(CheckpointKeys.DEPLOY_SHAPE_PREFIX + CODES).split(",");
            int out = Integer.parseInt(s[0]);
            int in = Integer.parseInt(s[1]);
            c.meta.put(CheckpointKeys.DEPLOY_SHAPE_PREFIX + CODES, in + "," + out);
            Raw r = c.tensors.get(mult);
            c.tensors.put(mult, new Raw("F32", new int[]{in, out}, r.data()));
        });
        InvalidInputException e = assertInvalid(q, FC1 + ".experts.1.shift (expected", () -> Checkpoints.load(q));
        assertTrue(e.getMessage().contains(mult) && e.getMessage().contains("unpacked from"), e.getMessage());
    }

    @Test
    void missingShapeMetadataAndWrongFormat() throws Exception {
        Path p = edited("noshape.safetensors", c -> c.meta.remove(CheckpointKeys.DEPLOY_SHAPE_PREFIX + CODES));
        assertInvalid(p, CODES + ": metadata \"" + CheckpointKeys.DEPLOY_SHAPE_PREFIX + CODES + "\" is absent",
                () -> Checkpoints.load(p));
        Path q = edited("format.safetensors", c -> c.meta.put(CheckpointKeys.FORMAT, "something-else"));
        assertInvalid(q, "metadata \"format\" is \"something-else\", expected \"shiftaddvit-deploy\"", () -> DeployFile.load(q));
        Path r = edited("bits.safetensors", c -> c.meta.put(CheckpointKeys.DEPLOY_CODE_BITS, "4"));
        assertInvalid(r, "metadata \"deploy.code_bits\" is 4, expected 5", () -> Checkpoints.load(r));
    }

    @Test
    void everyCodesProblemIsReportedAtOnce() throws Exception {
        String other = "stages.0.blocks.0.mlp.fc2.experts.1.codes";
        Path p = edited("two.safetensors", c -> {
            c.tensors.remove(CODES);
            Raw r = c.tensors.get(other);
            c.tensors.put(other, new Raw("I8", r.shape(), r.data()));
        });
        InvalidInputException e = assertInvalid(p, CODES + ": missing tensor", () -> Checkpoints.load(p));
        assertTrue(e.getMessage().contains(other + ": dtype I8"), e.getMessage());
        assertTrue(Set.of(e.problem().split("; ")).size() == 2, e.getMessage());
    }
}
