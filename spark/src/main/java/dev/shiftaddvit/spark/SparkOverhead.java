package dev.shiftaddvit.spark;

import dev.shiftaddvit.ImageClassifier;
import dev.shiftaddvit.ImagePreprocessing;
import dev.shiftaddvit.data.Dataset;
import dev.shiftaddvit.data.FashionMnist;
import org.apache.spark.sql.SparkSession;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The engine's overhead on Spark: images/s of the batch-classification job in local mode against the plain
 * Java API (decode every file, classify in batches of the same size) on the same PNG files, alternating
 * A B A B. Usage: {@code SparkOverhead MODEL IMAGES_PER_RUN [ROUNDS] [MASTER]} (defaults 3 rounds,
 * {@code local[2]}); the files are the bundled Fashion-MNIST sample, repeated.
 */
public final class SparkOverhead {
    private static final int BATCH = 64;

    private SparkOverhead() {
    }

    public static void main(String[] args) throws Exception {
        String model = args[0];
        int n = Integer.parseInt(args[1]);
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        String master = args.length > 3 ? args[3] : "local[2]";
        Path root = Files.createTempDirectory("shiftaddvit-spark-images");
        List<Path> files = write(root, n);
        ImageClassifier api = ExecutorModels.get(model);
        SparkSession spark = SparkSession.builder().master(master).appName("overhead").config("spark.ui.enabled", "false")
                .getOrCreate();
        spark.sparkContext().setLogLevel("WARN");
        try {
            for (int r = 0; r <= rounds; r++) {
                double javaSecs = javaApi(api, files);
                long t0 = System.nanoTime();
                long rows = new SparkClassifier(model, 5, BATCH).classify(SparkClassifier.readImages(spark,
                        root.toString())).filter("error IS NULL").count();
                double sparkSecs = (System.nanoTime() - t0) / 1e9;
                if (rows != n) throw new IllegalStateException("Spark classified " + rows + " of " + n + " images");
                // Round 0 warms both paths up and is not reported.
                if (r > 0) {
                    System.out.printf(Locale.ROOT, "round %d: Java API %.0f img/s, Spark %s %.0f img/s, Spark / Java %.2f%n",
                            r, n / javaSecs, master, n / sparkSecs, javaSecs / sparkSecs);
                }
            }
        } finally {
            spark.stop();
        }
    }

    private static double javaApi(ImageClassifier api, List<Path> files) throws IOException {
        long t0 = System.nanoTime();
        List<float[]> batch = new ArrayList<>();
        for (Path f : files) {
            batch.add(api.input(Files.readAllBytes(f), f.toString(), ImagePreprocessing.DEFAULT));
            if (batch.size() == BATCH) {
                api.predictBatch(batch, 5);
                batch.clear();
            }
        }
        if (!batch.isEmpty()) api.predictBatch(batch, 5);
        return (System.nanoTime() - t0) / 1e9;
    }

    private static List<Path> write(Path root, int n) throws IOException {
        Dataset sample = FashionMnist.bundledSample();
        byte[] px = new byte[28 * 28];
        List<Path> files = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            sample.copyPixels(i % sample.n(), px, 0);
            BufferedImage img = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
            for (int y = 0; y < 28; y++) for (int x = 0; x < 28; x++) img.getRaster().setSample(x, y, 0, px[y * 28 + x] & 0xff);
            Path f = root.resolve((i % 100) + "/" + i + ".png");
            Files.createDirectories(f.getParent());
            ImageIO.write(img, "png", f.toFile());
            files.add(f);
        }
        return files;
    }
}
