package dev.shiftaddvit.data;

import java.nio.file.Path;

/**
 * One-off generator of the bundled sample (test scope, not a test): the first 1,000 images and
 * labels of the installed Fashion-MNIST test set, written with {@link Idx#write} as gzip IDX into
 * {@code core/src/main/resources/dev/shiftaddvit/data/}. Run from the repository root:
 * <pre>
 * java -cp core/target/classes:core/target/test-classes dev.shiftaddvit.data.MakeFashionMnistSample [dataDir] [outDir]
 * </pre>
 */
public final class MakeFashionMnistSample {
    private MakeFashionMnistSample() {}

    public static void main(String[] args) throws Exception {
        Path dataDir = args.length > 0 ? Path.of(args[0]) : FashionMnist.DEFAULT_DIR;
        Path outDir = args.length > 1 ? Path.of(args[1]) : Path.of("core/src/main/resources/dev/shiftaddvit/data");
        Dataset test = FashionMnist.load(dataDir, FashionMnist.Split.TEST);
        Dataset sample = test.subset(0, FashionMnist.SAMPLE_SIZE);
        Idx.write(outDir.resolve(FashionMnist.SAMPLE_IMAGES),
                new int[] {sample.n(), sample.h(), sample.w()}, sample.pixels(), true);
        Idx.write(outDir.resolve(FashionMnist.SAMPLE_LABELS), new int[] {sample.n()}, sample.labels(), true);
        System.out.println("wrote " + sample + " to " + outDir);
    }
}
