package dev.shiftaddvit.spark;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The batch-classification driver: {@code --model FILE --images DIR --out DIR [--top-k 5] [--batch 64]
 * [--master local[2]]}. Reads every PNG/JPEG under DIR, classifies them ({@link SparkClassifier}) and writes
 * (path, label, index, probability, top_k, error) as Parquet to OUT, which must not exist yet. Without
 * {@code --master} the master comes from {@code spark-submit}. Exit code 2 and one line for a bad flag.
 */
public final class ClassifyImages {
    private ClassifyImages() {
    }

    public static void main(String[] args) {
        Map<String, String> flags;
        try {
            flags = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("error: " + e.getMessage());
            System.exit(2);
            return;
        }
        SparkSession.Builder b = SparkSession.builder().appName("shiftaddvit-classify");
        if (flags.containsKey("--master")) b.master(flags.get("--master"));
        SparkSession spark = b.getOrCreate();
        try {
            long t0 = System.nanoTime();
            Dataset<Row> result = new SparkClassifier(flags.get("--model"), Integer.parseInt(flags.get("--top-k")),
                    Integer.parseInt(flags.get("--batch"))).classify(SparkClassifier.readImages(spark, flags.get("--images")));
            result.write().parquet(flags.get("--out"));
            long n = spark.read().parquet(flags.get("--out")).count();
            System.err.printf("classified %d images into %s in %.1f s%n", n, flags.get("--out"),
                    (System.nanoTime() - t0) / 1e9);
        } finally {
            spark.stop();
        }
    }

    static Map<String, String> parse(String[] args) {
        Map<String, String> f = new LinkedHashMap<>();
        f.put("--top-k", "5");
        f.put("--batch", "64");
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!a.matches("--(model|images|out|top-k|batch|master)")) throw new IllegalArgumentException("unknown flag " + a);
            if (i + 1 >= args.length) throw new IllegalArgumentException(a + " needs a value");
            f.put(a, args[++i]);
        }
        for (String required : new String[] {"--model", "--images", "--out"}) {
            if (!f.containsKey(required)) throw new IllegalArgumentException(required + " is required");
        }
        for (String n : new String[] {"--top-k", "--batch"}) {
            try {
                if (Integer.parseInt(f.get(n)) < 1) throw new NumberFormatException();
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(n + " must be a positive integer, got " + f.get(n));
            }
        }
        if (!java.nio.file.Files.isRegularFile(java.nio.file.Path.of(f.get("--model")))) {
            throw new IllegalArgumentException("--model " + f.get("--model") + " is not a file");
        }
        return f;
    }
}
