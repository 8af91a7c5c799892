package dev.shiftaddvit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shiftaddvit.ImageClassifier;
import dev.shiftaddvit.checkpoint.Checkpoints;
import dev.shiftaddvit.checkpoint.DeployFile;
import dev.shiftaddvit.cli.report.PipelineSummary;
import dev.shiftaddvit.io.Json;
import dev.shiftaddvit.model.Configs;
import dev.shiftaddvit.model.ModelConfig;
import dev.shiftaddvit.model.VitConfig;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** train, finetune, reparam, pipeline and eval on a class-per-folder set of generated PNGs. */
class ImageFolderTrainingTest extends ConsoleCapture {
    private static final List<String> CLASSES = List.of("cat", "dog", "fox");

    @TempDir
    Path dir;

    /** DIR/train/<class>/ with 4 images and DIR/val/<class>/ with 2, each class its own colour. */
    private Path images() throws Exception {
        Path root = dir.resolve("images");
        for (int c = 0; c < CLASSES.size(); c++) {
            for (String split : List.of("train", "val")) {
                int n = split.equals("train") ? 4 : 2;
                for (int i = 0; i < n; i++) {
                    BufferedImage img = new BufferedImage(24 + i, 20, BufferedImage.TYPE_INT_RGB);
                    for (int y = 0; y < 20; y++) {
                        for (int x = 0; x < img.getWidth(); x++) img.setRGB(x, y, (0xff << (8 * c)) ^ (x * y));
                    }
                    Path p = root.resolve(split).resolve(CLASSES.get(c)).resolve(i + ".png");
                    Files.createDirectories(p.getParent());
                    ImageIO.write(img, "png", p.toFile());
                }
            }
        }
        return root;
    }

    /** A tiny 16 px RGB ViT with {@code classes} classes. */
    private Path rgbModel(int classes) throws Exception {
        VitConfig c = VitConfig.builder("rgb_tiny").imgSize(16).patchSize(8).inChans(3).numClasses(classes)
                .embedDim(8).depth(1).heads(2).mlpRatio(2.0).qkvBias(true).classToken(true).eps(1e-6f)
                .mean(0.485f, 0.456f, 0.406f).std(0.229f, 0.224f, 0.225f).build();
        Path p = dir.resolve("rgb" + classes + ".safetensors");
        Checkpoints.save(p, c.build(3), null, Map.of("train.command", "test"));
        return p;
    }

    /** {@link #rgbModel} fine-tuned on the folders at batch 4. */
    private Path finetuned(Path root, int epochs) throws Exception {
        Path tuned = dir.resolve("f.safetensors");
        assertEquals(0, Main.run("finetune", "--model", rgbModel(3).toString(), "--out", tuned.toString(), "--images",
                root.toString(), "--epochs", Integer.toString(epochs), "--batch-size", "4"), stderr());
        return tuned;
    }

    @Test
    void finetuneWithATeacherDistilsAndRecordsHow() throws Exception {
        Path root = images();
        Path parent = rgbModel(3);
        Path tuned = dir.resolve("distilled.safetensors");
        assertEquals(0, Main.run("finetune", "--model", parent.toString(), "--teacher", parent.toString(),
                "--distill", "hard", "--distill-weight", "0.3", "--block-match", "0.5", "--out", tuned.toString(),
                "--images", root.toString(), "--epochs", "1", "--batch-size", "4"), stderr());
        assertTrue(stderr().contains("distilling from " + parent), stderr());
        Map<String, String> meta = Checkpoints.load(tuned).metadata();
        assertEquals("hard,temperature=2.0,weight=0.3,block_weight=0.5", meta.get("train.distill"));
        assertEquals(parent.toString(), meta.get("train.teacher"));
    }

    @Test
    void finetuneTrainsOnTheTrainFoldersAndScoresTheValFolders() throws Exception {
        Path root = images();
        Path tuned = finetuned(root, 2);
        assertTrue(stdout().contains("top-1") && stdout().contains("on 6 test images"), stdout());
        assertTrue(stderr().contains("12 for training, 6 for evaluation in 3 classes"), stderr());
        Map<String, String> meta = Checkpoints.load(tuned).metadata();
        assertEquals(root.toString(), meta.get("train.data"));
        assertEquals("6", meta.get("eval.images"));
        assertTrue(meta.get("train.augment").startsWith("crop_pad=0,"), "the resized crop replaces the padded crop");

        out.reset();
        assertEquals(0, Main.run("eval", "--model", tuned.toString(), "--images",
                root.toString(), "--json"), stderr());
        assertEquals(6L, ((Number) Json.parseObject(stdout().trim(), "stdout").get("images")).longValue());
        assertTrue(stderr().contains("evaluating on " + root.resolve("val")), stderr());
    }

    @Test
    void theFolderNamesTravelFromFineTuneThroughReparamAndDeployToPredict() throws Exception {
        Path root = images();
        Path tuned = finetuned(root, 1);
        Path attn = dir.resolve("a.safetensors");
        assertEquals(0, Main.run("reparam", "--model", tuned.toString(), "--stage", "attn", "--images",
                root.toString(), "--hash-images", "6", "--out", attn.toString()), stderr());
        Path moe = dir.resolve("m.safetensors");
        assertEquals(0, Main.run("reparam", "--model", attn.toString(), "--stage", "moe", "--latency-batch", "1",
                "--out", moe.toString()), stderr());
        Path deployed = dir.resolve("d.safetensors");
        assertEquals(0, Main.run("deploy", "--model", moe.toString(), "--out", deployed.toString()), stderr());
        for (Path p : List.of(tuned, attn, moe, deployed)) {
            ImageClassifier clf = ImageClassifier.load(p);
            assertEquals(CLASSES, List.of(clf.label(0), clf.label(1), clf.label(2)), p.toString());
        }
        out.reset();
        assertEquals(0, Main.run("predict", "--model", deployed.toString(), "--top-k", "3",
                root.resolve("val/dog/0.png").toString()), stderr());
        for (String c : CLASSES) assertTrue(stdout().contains(c), stdout());
    }

    @Test
    void pipelineRunsEveryStageOnTheImages() throws Exception {
        Path root = images();
        Path work = dir.resolve("pipe");
        Path out = dir.resolve("d.safetensors");
        assertEquals(0, Main.run("pipeline", "--model", rgbModel(3).toString(), "--images", root.toString(),
                "--dir", work.toString(), "--out", out.toString(), "--attn-epochs", "1", "--moe-epochs", "1",
                "--batch-size", "4", "--limit", "8", "--speed-seconds", "0.05", "--hash-images", "6",
                "--latency-batch", "1"), stderr());
        PipelineSummary s = PipelineSummary.read(work.resolve("summary.json"));
        assertEquals(List.of("dense", "attn", "moe", "deployed"), s.stages().stream().map(r -> r.stage()).toList());
        assertEquals(6, s.stages().getLast().evalImages());
        assertTrue(Files.size(work.resolve("report.md")) > 0);
        assertTrue(stderr().contains("[deployed] top-1"), stderr());
        assertTrue(stderr().contains("8 for training, 6 for evaluation"), stderr());
        assertTrue(DeployFile.isDeployFile(Checkpoints.load(out).metadata()));
    }

    @Test
    void trainGivesANamedConfigOneClassPerFolder() throws Exception {
        for (String name : List.of("deit_tiny", "pvt_v2_b0")) {
            ModelConfig c = TrainCommand.withClasses(Configs.byName(name), 3);
            assertEquals(3, c.numClasses());
            Map<String, String> expected = new HashMap<>(Configs.byName(name).toMetadata());
            expected.put("num_classes", "3");
            assertEquals(expected, c.toMetadata(), "only the class count changes");
        }
        Path out = dir.resolve("t.safetensors");
        assertEquals(2, Main.run("train", "--model", "pvt_v2_fmnist", "--out", out.toString(), "--images",
                images().toString()));
        assertTrue(stderr().contains("--images needs a model taking RGB input; pvt_v2_fmnist takes 1-channel 28 px"),
                stderr());
    }

    @Test
    void trainNewHeadTransfersAPretrainedModelToTheFolders() throws Exception {
        Path out = dir.resolve("h.safetensors");
        assertEquals(0, Main.run("train", "--init", rgbModel(2).toString(), "--new-head", "--images",
                images().toString(), "--out", out.toString(), "--epochs", "1", "--batch-size", "4"), stderr());
        assertEquals(3, Checkpoints.load(out).model().config().numClasses());
        assertEquals(2, stderr().lines().filter(l -> l.contains("starts afresh")).count(), stderr());
        assertTrue(stderr().contains("head.weight starts afresh"), stderr());
        assertEquals(2, Main.run("train", "--init", rgbModel(2).toString(), "--new-head", "--out", out.toString()));
        assertTrue(stderr().contains("--new-head needs --init and --images"), stderr());
    }

    @Test
    void aModelWhoseClassCountDiffersFromTheFoldersIsRefused() throws Exception {
        Path root = images();
        Path out = dir.resolve("x.safetensors");
        assertEquals(2, Main.run("finetune", "--model", rgbModel(2).toString(), "--out", out.toString(), "--images",
                root.toString()));
        assertTrue(stderr().contains(root.resolve("train") + ": 3 class folders, but model rgb_tiny has 2 classes"),
                stderr());
        assertFalse(Files.exists(out));

        err.reset();
        assertEquals(2, Main.run("reparam", "--model", rgbModel(2).toString(), "--stage", "attn", "--out",
                out.toString(), "--images", root.toString()));
        assertTrue(stderr().contains("3 class folders, but model rgb_tiny has 2 classes"), stderr());

        err.reset();
        assertEquals(2, Main.run("finetune", "--model", tinyModel(dir).toString(), "--out", out.toString(),
                "--images", root.toString()));
        assertTrue(stderr().contains("--images needs a model taking RGB input; tiny_pvt takes 1-channel 28 px"),
                stderr());
    }

    @Test
    void reparamTrainsTheHashesOnTheTrainFolders() throws Exception {
        Path out = dir.resolve("a.safetensors");
        assertEquals(0, Main.run("reparam", "--model", rgbModel(3).toString(), "--stage", "attn", "--out",
                out.toString(), "--images", images().toString(), "--hash-images", "5"), stderr());
        assertTrue(stderr().contains("on 5 images"), stderr());
        assertEquals("attn", Checkpoints.load(out).model().shiftAdd().stage());
    }
}
