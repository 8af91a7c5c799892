package dev.shiftaddvit.spark;

import dev.shiftaddvit.ImageClassifier;
import dev.shiftaddvit.ImagePreprocessing;
import dev.shiftaddvit.Prediction;
import dev.shiftaddvit.checkpoint.Checkpoints;
import dev.shiftaddvit.data.Dataset;
import dev.shiftaddvit.data.FashionMnist;
import dev.shiftaddvit.model.Model;
import dev.shiftaddvit.model.PvtV2Config;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Spark in local[2] classifies a few hundred images exactly as ImageClassifier does. */
class SparkClassifierTest {
    private static SparkSession spark;

    @TempDir
    static Path dir;

    @BeforeAll
    static void start() {
        spark = SparkSession.builder().master("local[2]").appName("test").config("spark.ui.enabled", "false")
                .config("spark.sql.shuffle.partitions", "2").getOrCreate();
    }

    @AfterAll
    static void stop() {
        if (spark != null) spark.stop();
    }

    private static Path model() throws Exception {
        Model m = PvtV2Config.builder("tiny_pvt").imgSize(28).inChans(1).numClasses(10).embedDims(8, 16).heads(1, 2)
                .mlpRatios(2, 2).srRatios(2, 1).depths(1, 1).stemKernel(3).stemStride(2).qkvBias(true).mean(0.286f)
                .std(0.353f).build().build(5);
        Path p = dir.resolve("tiny.safetensors");
        Checkpoints.save(p, m, null, Map.of());
        return p;
    }

    /** The first n images of the bundled Fashion-MNIST sample as PNG files in class folders. */
    private static Path images(int n) throws Exception {
        Dataset sample = FashionMnist.bundledSample();
        Path root = dir.resolve("images");
        byte[] px = new byte[28 * 28];
        for (int i = 0; i < n; i++) {
            sample.copyPixels(i, px, 0);
            BufferedImage img = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
            for (int y = 0; y < 28; y++) for (int x = 0; x < 28; x++) img.getRaster().setSample(x, y, 0, px[y * 28 + x] & 0xff);
            Path f = root.resolve("c" + sample.label(i)).resolve(i + ".png");
            Files.createDirectories(f.getParent());
            ImageIO.write(img, "png", f.toFile());
        }
        Files.writeString(root.resolve("broken.png"), "not a png");
        return root;
    }

    @Test
    void everyPredictionMatchesTheJavaApiAndABrokenFileBecomesAnErrorRow() throws Exception {
        Path model = model();
        Path root = images(300);
        Path out = dir.resolve("predictions.parquet");
        new SparkClassifier(model.toString(), 3, 32).classify(SparkClassifier.readImages(spark, root.toString()).repartition(4))
                .write().parquet(out.toString());
        List<Row> rows = spark.read().parquet(out.toString()).collectAsList();
        assertEquals(301, rows.size());
        ImageClassifier api = ImageClassifier.load(model);
        Map<String, Row> byPath = new HashMap<>();
        for (Row r : rows) byPath.put(r.getString(r.fieldIndex("path")), r);
        int checked = 0;
        for (Map.Entry<String, Row> e : byPath.entrySet()) {
            Row r = e.getValue();
            Path file = Path.of(URI.create(e.getKey()));
            if (file.getFileName().toString().equals("broken.png")) {
                assertTrue(r.getString(r.fieldIndex("error")).contains("not a recognised image"), r.toString());
                assertTrue(r.isNullAt(r.fieldIndex("label")));
                continue;
            }
            assertNull(r.get(r.fieldIndex("error")), r.toString());
            List<Prediction> expected = api.predict(api.input(Files.readAllBytes(file), "f", ImagePreprocessing.DEFAULT), 3);
            List<Row> top = r.getList(r.fieldIndex("top_k"));
            assertEquals(3, top.size());
            for (int i = 0; i < 3; i++) {
                assertEquals(expected.get(i).classIndex(), top.get(i).getInt(1), e.getKey());
                assertEquals(expected.get(i).label(), top.get(i).getString(0));
                assertEquals(expected.get(i).probability(), top.get(i).getFloat(2), 1e-6f);
            }
            assertEquals(expected.getFirst().label(), r.getString(r.fieldIndex("label")));
            checked++;
        }
        assertEquals(300, checked);
        assertEquals(1, ExecutorModels.loaded(), "partitions share one model per JVM");
    }
}
