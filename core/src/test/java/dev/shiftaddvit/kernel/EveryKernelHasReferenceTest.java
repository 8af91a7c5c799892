package dev.shiftaddvit.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * One convention for the scalar oracles, checkable by listing kernel/: every vectorised kernel X.java has
 * its oracle in XReference.java beside it, and no kernel keeps a public {@code ...Scalar} twin that only
 * tests call (a scalar method production code calls, such as a vector loop's tail, stays in the kernel).
 */
class EveryKernelHasReferenceTest {
    /** Relative to the module directory, surefire's working directory. */
    private static final Path KERNELS = Path.of("src/main/java/dev/shiftaddvit/kernel");
    /** Main sources whose calls count as production use: all of core, and cli and bench beside it. */
    private static final List<Path> MAIN_ROOTS = List.of(Path.of("src/main/java"), Path.of("../cli/src/main/java"),
            Path.of("../bench/src/main/java"));
    private static final String REFERENCE = "Reference";
    /** Files in kernel/ that use the Vector API but have no oracle of their own, each with the reason. */
    private static final Map<String, String> NOT_KERNELS = Map.of(
            "VectorWidth", "picks the species every kernel uses; it computes nothing to compare",
            "GemmDot", "Gemm's few-row path, reached only through Gemm.nt and held to GemmReference there",
            "GemmTile8", "Gemm's 512-bit register tile, reached only through Gemm and held to GemmReference there");
    private static final Pattern PUBLIC_SCALAR = Pattern.compile(
            "\\bpublic\\s+(?:(?:static|final|synchronized)\\s+)*[\\w<>\\[\\],.?]+\\s+(\\w+Scalar)\\s*\\(");

    @Test
    void everyVectorKernelHasItsReferenceBesideIt() {
        Map<String, String> sources = sources();
        List<String> kernels = sources.keySet().stream()
                .filter(n -> !n.endsWith(REFERENCE) && !NOT_KERNELS.containsKey(n) && usesVectorApi(sources.get(n)))
                .toList();
        assertTrue(kernels.contains("Gemm"), "no vector kernel found in " + KERNELS + ": " + sources.keySet());
        List<String> missing = kernels.stream().filter(n -> !sources.containsKey(n + REFERENCE)).toList();
        assertEquals(List.of(), missing, "vector kernels without an XReference.java beside them (move the scalar"
                + " oracle there, or add the file to NOT_KERNELS with a reason)");
    }

    @Test
    void everyReferenceHasItsKernel() {
        Map<String, String> sources = sources();
        List<String> orphans = sources.keySet().stream()
                .filter(n -> n.endsWith(REFERENCE)
                        && !sources.containsKey(n.substring(0, n.length() - REFERENCE.length())))
                .toList();
        assertEquals(List.of(), orphans, "XReference.java files without their X.java");
    }

    @Test
    void everyExclusionIsAVectorFileWithoutAReference() {
        Map<String, String> sources = sources();
        for (String name : NOT_KERNELS.keySet()) {
            assertTrue(sources.containsKey(name), name + " is excluded but not in " + KERNELS);
            assertTrue(usesVectorApi(sources.get(name)), name + " no longer uses the Vector API: drop its exclusion");
            assertFalse(sources.containsKey(name + REFERENCE), name + " has a Reference, so it is a kernel: drop its"
                    + " exclusion");
        }
    }

    @Test
    void noKernelDeclaresAPublicScalarMethodOnlyTestsCall() {
        List<String> production = productionSources();
        List<String> testOnly = new ArrayList<>();
        sources().forEach((name, text) -> {
            if (name.endsWith(REFERENCE)) return;
            Matcher m = PUBLIC_SCALAR.matcher(code(text));
            while (m.find()) {
                String method = m.group(1);
                Pattern call = Pattern.compile("(?<![\\w$])" + method + "\\s*\\(");
                Pattern declaration = Pattern.compile(
                        "[\\w>\\]]\\s+" + method + "\\s*\\([^()]*\\)\\s*(?:throws\\s[\\w.,\\s]+)?\\{");
                long calls = production.stream().mapToLong(s -> call.matcher(s).results().count()).sum()
                        - production.stream().mapToLong(s -> declaration.matcher(s).results().count()).sum();
                if (calls <= 0) testOnly.add(name + "." + method);
            }
        });
        assertEquals(List.of(), testOnly, "public ...Scalar methods no production code calls: these are oracles,"
                + " move them into the kernel's XReference.java");
    }

    /** Class name → source text of every .java file in kernel/. */
    private static Map<String, String> sources() {
        assertTrue(Files.isDirectory(KERNELS), "kernel sources not found at " + KERNELS.toAbsolutePath()
                + "; this test reads them relative to core/, the directory surefire runs in");
        Map<String, String> out = new TreeMap<>();
        for (Path p : javaFiles(KERNELS, 1)) {
            out.put(p.getFileName().toString().replace(".java", ""), read(p));
        }
        return out;
    }

    /** Comment- and string-free text of every main source file except the references, whose calls are tests'. */
    private static List<String> productionSources() {
        List<String> out = new ArrayList<>();
        for (Path root : MAIN_ROOTS) {
            if (!Files.isDirectory(root)) continue;
            for (Path p : javaFiles(root, Integer.MAX_VALUE)) {
                boolean reference = p.getFileName().toString().endsWith(REFERENCE + ".java")
                        && p.toAbsolutePath().normalize().startsWith(KERNELS.toAbsolutePath().normalize());
                if (!reference) out.add(code(read(p)));
            }
        }
        return out;
    }

    private static boolean usesVectorApi(String text) {
        return text.contains("import jdk.incubator.vector.");
    }

    /** The text without comments and string literals, so only code is matched. */
    private static String code(String text) {
        return text.replaceAll("(?s)/\\*.*?\\*/", " ").replaceAll("//[^\\n]*", " ")
                .replaceAll("\"(?:\\\\.|[^\"\\\\\\n])*\"", "\"\"");
    }

    private static List<Path> javaFiles(Path dir, int depth) {
        try (Stream<Path> s = Files.walk(dir, depth)) {
            return s.filter(p -> p.toString().endsWith(".java") && Files.isRegularFile(p)).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
